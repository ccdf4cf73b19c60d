// One filter per (series, field), from that field's resolved settings.

import { DeadbandFilter } from './deadband.ts'
import { KeepAllFilter, type LossyFilter } from './filter.ts'
import type { CompressionSettings } from './settings.ts'
import { SwingingDoorFilter } from './swinging-door.ts'

/**
 * A fresh filter for `settings` (validated here, once). 'off' gives a KeepAllFilter, which keeps
 * every point and still counts; a caller may as well skip fields that are off.
 */
export function createFilter<Raw = unknown>(settings: CompressionSettings): LossyFilter<Raw> {
  switch (settings.algorithm) {
    case 'deadband': return new DeadbandFilter<Raw>(settings)
    case 'sdt': return new SwingingDoorFilter<Raw>(settings)
    case 'off': return new KeepAllFilter<Raw>()
  }
}
