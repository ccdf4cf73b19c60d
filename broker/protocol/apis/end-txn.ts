// EndTxn (key 26), versions 0-1 (identical layouts): field tables from brief Appendix A.
// `committed` true = commit, false = abort.

import { defineApi } from '../schema.ts'

export interface EndTxnRequest {
  transactionalId: string
  producerId: bigint
  producerEpoch: number
  committed: boolean
}

export interface EndTxnResponse {
  throttleTimeMs: number
  errorCode: number
}

export const endTxnApi = defineApi<EndTxnRequest, EndTxnResponse>({
  key: 26,
  name: 'EndTxn',
  minVersion: 0,
  maxVersion: 1,
  flexibleFrom: 3,
  requests: [
    [0, [['transactionalId', 'string'], ['producerId', 'int64'], ['producerEpoch', 'int16'], ['committed', 'bool']]],
  ],
  responses: [
    [0, [['throttleTimeMs', 'int32'], ['errorCode', 'int16']]],
  ],
})
