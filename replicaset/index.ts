// replicaset/: the replica set. Owns the replica apply loop (every node applies every partition of
// sluice.changelog to its own segment stores), membership in Redis (heartbeats, masters, lag,
// health), its status routes and read-your-writes waits. It does not own mastering (that is
// pipeline/processor and Kafka's consumer group) nor storage formats (sinks/segments).

export { startReplica, Replica, combineChecksums, lockHolder, REPLICA_LOCK_FILE, CHANGELOG_TOPIC, REPLICA_GROUP_PREFIX, type ReplicaOptions, type ReplicaState, type Peer, type CatchingUp, type IngestPosition, type PartitionPosition, type ReplicaChecksum } from './replica.ts'
export {
  Membership, RedisMemberStore, MemoryMemberStore, formatReplicaSet, mastersOf, parseMemberRecord, MEMBER_KEY_PREFIX, MEMBERS_INDEX_KEY,
  type MemberRecord, type MemberPartition, type MemberHealth, type MemberStore, type MembershipOptions, type ReplicaSetView,
} from './membership.ts'
export { linkSnapshot, receiveSnapshot, snapshotFrames, SNAPSHOT_CONTENT_TYPE, type LinkedSnapshot } from './snapshot.ts'
export { replicaSetRoutes, type ReplicaSetRoutesOptions } from './routes.ts'
export { ReplicaError, ReplicaErrorCode, isReplicaError, type ReplicaErrorCodeValue, type ReplicaErrorContext } from './errors.ts'
export { replicaLimits, defaultReplicaTimings, type ReplicaTimings } from './limits.ts'
