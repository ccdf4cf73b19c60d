// Every API the broker speaks, and the ApiVersions advertisement built from them (brief §2.5).
// A request whose key is missing here, or whose version is outside its range, cannot be parsed.

import type { ApiDefinition } from '../schema.ts'
import { addOffsetsToTxnApi } from './add-offsets-to-txn.ts'
import { addPartitionsToTxnApi } from './add-partitions-to-txn.ts'
import { alterConfigsApi } from './alter-configs.ts'
import { apiVersionsApi } from './api-versions.ts'
import { createPartitionsApi } from './create-partitions.ts'
import { createTopicsApi } from './create-topics.ts'
import { deleteGroupsApi } from './delete-groups.ts'
import { deleteRecordsApi } from './delete-records.ts'
import { deleteTopicsApi } from './delete-topics.ts'
import { describeConfigsApi } from './describe-configs.ts'
import { describeGroupsApi } from './describe-groups.ts'
import { endTxnApi } from './end-txn.ts'
import { fetchApi } from './fetch.ts'
import { findCoordinatorApi } from './find-coordinator.ts'
import { heartbeatApi } from './heartbeat.ts'
import { initProducerIdApi } from './init-producer-id.ts'
import { joinGroupApi } from './join-group.ts'
import { leaveGroupApi } from './leave-group.ts'
import { listGroupsApi } from './list-groups.ts'
import { listOffsetsApi } from './list-offsets.ts'
import { metadataApi } from './metadata.ts'
import { offsetCommitApi } from './offset-commit.ts'
import { offsetFetchApi } from './offset-fetch.ts'
import { produceApi } from './produce.ts'
import { syncGroupApi } from './sync-group.ts'
import { txnOffsetCommitApi } from './txn-offset-commit.ts'

/** In api-key order. */
export const allApis: ApiDefinition<unknown, unknown>[] = [
  produceApi, fetchApi, listOffsetsApi, metadataApi, offsetCommitApi, offsetFetchApi, findCoordinatorApi,
  joinGroupApi, heartbeatApi, leaveGroupApi, syncGroupApi, describeGroupsApi, listGroupsApi, apiVersionsApi,
  createTopicsApi, deleteTopicsApi, deleteRecordsApi, initProducerIdApi, addPartitionsToTxnApi, addOffsetsToTxnApi,
  endTxnApi, txnOffsetCommitApi, describeConfigsApi, alterConfigsApi, createPartitionsApi, deleteGroupsApi,
]

const byKey = new Map(allApis.map(api => [api.key, api]))
if (byKey.size !== allApis.length) throw new Error('two API definitions share an api key')

export function apiByKey(key: number): ApiDefinition<unknown, unknown> | undefined {
  return byKey.get(key)
}

export function advertisedApiKeys(): Array<{ apiKey: number; minVersion: number; maxVersion: number }> {
  return [...allApis]
    .sort((a, b) => a.key - b.key)
    .map(api => ({ apiKey: api.key, minVersion: api.minVersion, maxVersion: api.maxVersion }))
}
