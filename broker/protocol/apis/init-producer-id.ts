// InitProducerId (key 22), versions 0-1 (identical layouts; v2+ is flexible): field tables from
// brief Appendix A. librdkafka requires v0 to be advertised before it enables idempotence.

import { defineApi } from '../schema.ts'

export interface InitProducerIdRequest {
  /** Null for an idempotent, non-transactional producer. */
  transactionalId: string | null
  transactionTimeoutMs: number
}

export interface InitProducerIdResponse {
  throttleTimeMs: number
  errorCode: number
  producerId: bigint
  producerEpoch: number
}

export const initProducerIdApi = defineApi<InitProducerIdRequest, InitProducerIdResponse>({
  key: 22,
  name: 'InitProducerId',
  minVersion: 0,
  maxVersion: 1,
  flexibleFrom: 2,
  requests: [
    [0, [['transactionalId', 'string?'], ['transactionTimeoutMs', 'int32']]],
  ],
  responses: [
    [0, [['throttleTimeMs', 'int32'], ['errorCode', 'int16'], ['producerId', 'int64'], ['producerEpoch', 'int16']]],
  ],
})
