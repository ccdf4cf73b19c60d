// AddOffsetsToTxn (key 25), versions 0-1 (identical layouts): field tables from brief Appendix A.

import { defineApi } from '../schema.ts'

export interface AddOffsetsToTxnRequest {
  transactionalId: string
  producerId: bigint
  producerEpoch: number
  groupId: string
}

export interface AddOffsetsToTxnResponse {
  throttleTimeMs: number
  errorCode: number
}

export const addOffsetsToTxnApi = defineApi<AddOffsetsToTxnRequest, AddOffsetsToTxnResponse>({
  key: 25,
  name: 'AddOffsetsToTxn',
  minVersion: 0,
  maxVersion: 1,
  flexibleFrom: 3,
  requests: [
    [0, [['transactionalId', 'string'], ['producerId', 'int64'], ['producerEpoch', 'int16'], ['groupId', 'string']]],
  ],
  responses: [
    [0, [['throttleTimeMs', 'int32'], ['errorCode', 'int16']]],
  ],
})
