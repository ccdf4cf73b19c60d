// The classic consumer-group protocol (brief §4.4): Empty → PreparingRebalance →
// CompletingRebalance → Stable, with parked JoinGroup and SyncGroup calls, member session timers,
// the MEMBER_ID_REQUIRED round trip, and committed and transactional offsets.

import { randomUUID } from 'node:crypto'
import type { BrokerConfig } from '../config.ts'
import type { Logger } from '../logger.ts'
import { ErrorCode } from '../protocol/errors.ts'
import { OffsetStore, type CommittedOffset, type OffsetEntry } from './offset-store.ts'

export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead'

/** Allowed transitions; every change of state goes through `transition`, which checks this. */
const TRANSITIONS: Record<GroupState, readonly GroupState[]> = {
  Empty: ['PreparingRebalance', 'Dead'],
  PreparingRebalance: ['CompletingRebalance', 'Empty', 'Dead'],
  CompletingRebalance: ['PreparingRebalance', 'Stable', 'Dead'],
  Stable: ['PreparingRebalance', 'Dead'],
  Dead: ['Empty'],
}

export interface JoinResult {
  errorCode: number
  generationId: number
  protocolName: string
  leader: string
  memberId: string
  members: Array<{ memberId: string; groupInstanceId: string | null; metadata: Buffer }>
}

interface Member {
  memberId: string
  groupInstanceId: string | null
  clientId: string
  clientHost: string
  sessionTimeoutMs: number
  rebalanceTimeoutMs: number
  protocolType: string
  protocols: Array<{ name: string; metadata: Buffer }>
  assignment: Buffer
  awaitingJoin?: (result: JoinResult) => void
  awaitingSync?: (result: { errorCode: number; assignment: Buffer }) => void
  sessionTimer?: NodeJS.Timeout
}

interface Group {
  id: string
  state: GroupState
  generationId: number
  protocolType: string
  protocolName: string
  leaderId: string
  members: Map<string, Member>
  pendingMembers: Map<string, NodeJS.Timeout>
  rebalanceTimer?: NodeJS.Timeout
  /** When the group became Empty, for offset retention (KIP-211). */
  emptySinceMs: number
}

export interface JoinRequest {
  groupId: string
  memberId: string
  groupInstanceId: string | null
  clientId: string
  clientHost: string
  sessionTimeoutMs: number
  rebalanceTimeoutMs: number
  protocolType: string
  protocols: Array<{ name: string; metadata: Buffer }>
  apiVersion: number
}

const EMPTY = Buffer.alloc(0)
const RETENTION_SWEEP_MS = 60_000

export class GroupCoordinator {
  private readonly groups = new Map<string, Group>()
  private readonly sweepTimer: NodeJS.Timeout

  private constructor(private readonly config: BrokerConfig, private readonly logger: Logger, private readonly now: () => number, private readonly offsets: OffsetStore) {
    this.sweepTimer = setInterval(() => this.expireOffsets(), RETENTION_SWEEP_MS).unref()
  }

  static async open(options: { config: BrokerConfig; logger: Logger; now?: () => number }): Promise<GroupCoordinator> {
    const offsets = OffsetStore.open(options.config.dataDir, options.logger)
    options.logger.info('group offsets loaded', { groups: offsets.groups().length })
    return new GroupCoordinator(options.config, options.logger, options.now ?? Date.now, offsets)
  }

  private transition(group: Group, to: GroupState): void {
    if (group.state === to) return
    if (!TRANSITIONS[group.state].includes(to)) throw new Error(`invariant: group ${group.id} cannot go from ${group.state} to ${to}`)
    this.logger.info('group state', { group: group.id, from: group.state, to, generation: group.generationId, members: group.members.size })
    group.state = to
    if (to === 'Empty') group.emptySinceMs = this.now()
  }

  private getOrCreate(groupId: string): Group {
    let group = this.groups.get(groupId)
    if (!group) {
      group = { id: groupId, state: 'Empty', generationId: 0, protocolType: '', protocolName: '', leaderId: '', members: new Map(), pendingMembers: new Map(), emptySinceMs: this.now() }
      this.groups.set(groupId, group)
    }
    return group
  }

  // ---- JoinGroup ----

  join(request: JoinRequest): Promise<JoinResult> {
    const fail = (errorCode: number, memberId = request.memberId): Promise<JoinResult> =>
      Promise.resolve({ errorCode, generationId: -1, protocolName: '', leader: '', memberId, members: [] })
    if (request.groupId === '') return fail(ErrorCode.INVALID_GROUP_ID)
    if (request.sessionTimeoutMs < this.config.groupMinSessionTimeoutMs || request.sessionTimeoutMs > this.config.groupMaxSessionTimeoutMs) return fail(ErrorCode.INVALID_SESSION_TIMEOUT)
    const existing = this.groups.get(request.groupId)
    if (!existing && request.memberId !== '') return fail(ErrorCode.UNKNOWN_MEMBER_ID)
    const group = this.getOrCreate(request.groupId)
    if (request.protocols.length === 0 || !this.supportsProtocols(group, request)) return fail(ErrorCode.INCONSISTENT_GROUP_PROTOCOL)

    let memberId = request.memberId
    if (memberId === '') {
      memberId = `${request.clientId}-${randomUUID()}`
      if (request.apiVersion >= 4) {
        // KIP-394: the client must come back with this id; forget it if it never does.
        group.pendingMembers.set(memberId, setTimeout(() => group.pendingMembers.delete(memberId), request.sessionTimeoutMs).unref())
        return fail(ErrorCode.MEMBER_ID_REQUIRED, memberId)
      }
      return this.addMemberAndRebalance(group, memberId, request)
    }
    const pending = group.pendingMembers.get(memberId)
    if (pending) {
      clearTimeout(pending)
      group.pendingMembers.delete(memberId)
      return this.addMemberAndRebalance(group, memberId, request)
    }
    const member = group.members.get(memberId)
    if (!member || group.state === 'Empty' || group.state === 'Dead') return fail(ErrorCode.UNKNOWN_MEMBER_ID)
    return this.rejoin(group, member, request)
  }

  private supportsProtocols(group: Group, request: JoinRequest): boolean {
    if (group.members.size === 0) return true
    if (request.protocolType !== group.protocolType) return false
    const names = new Set(request.protocols.map(p => p.name))
    return [...group.members.values()].filter(m => m.memberId !== request.memberId).every(m => m.protocols.some(p => names.has(p.name)))
  }

  private addMemberAndRebalance(group: Group, memberId: string, request: JoinRequest): Promise<JoinResult> {
    const member: Member = {
      memberId, groupInstanceId: request.groupInstanceId, clientId: request.clientId, clientHost: request.clientHost,
      sessionTimeoutMs: request.sessionTimeoutMs, rebalanceTimeoutMs: request.rebalanceTimeoutMs,
      protocolType: request.protocolType, protocols: request.protocols, assignment: EMPTY,
    }
    if (group.members.size === 0) group.protocolType = request.protocolType
    group.members.set(memberId, member)
    this.touch(group, member)
    const parked = this.park(member)
    this.prepareRebalance(group, `member ${memberId} joined`)
    this.tryCompleteJoin(group)
    return parked
  }

  private rejoin(group: Group, member: Member, request: JoinRequest): Promise<JoinResult> {
    const changed = !sameProtocols(member.protocols, request.protocols)
    member.protocols = request.protocols
    member.sessionTimeoutMs = request.sessionTimeoutMs
    member.rebalanceTimeoutMs = request.rebalanceTimeoutMs
    this.touch(group, member)
    if (group.state === 'CompletingRebalance' && !changed) return Promise.resolve(this.joinResult(group, member))
    if (group.state === 'Stable' && !changed && member.memberId !== group.leaderId) return Promise.resolve(this.joinResult(group, member))
    const parked = this.park(member)
    if (group.state !== 'PreparingRebalance') this.prepareRebalance(group, `member ${member.memberId} rejoined`)
    this.tryCompleteJoin(group)
    return parked
  }

  private park(member: Member): Promise<JoinResult> {
    // A member parked twice (a retried JoinGroup) answers the older call with a rebalance error.
    member.awaitingJoin?.({ errorCode: ErrorCode.REBALANCE_IN_PROGRESS, generationId: -1, protocolName: '', leader: '', memberId: member.memberId, members: [] })
    return new Promise(resolve => { member.awaitingJoin = resolve })
  }

  private prepareRebalance(group: Group, reason: string): void {
    if (group.state === 'PreparingRebalance') return
    if (group.state === 'CompletingRebalance') {
      for (const member of group.members.values()) this.answerSync(member, ErrorCode.REBALANCE_IN_PROGRESS, EMPTY)
    }
    const wasEmpty = group.state === 'Empty'
    this.transition(group, 'PreparingRebalance')
    this.logger.info('rebalance', { group: group.id, reason })
    const delayMs = wasEmpty
      ? this.config.groupInitialRebalanceDelayMs
      : Math.max(...[...group.members.values()].map(m => m.rebalanceTimeoutMs), 0)
    clearTimeout(group.rebalanceTimer)
    group.rebalanceTimer = setTimeout(() => { group.rebalanceTimer = undefined; this.completeJoin(group) }, delayMs).unref()
    if (wasEmpty && delayMs > 0) return
    if (wasEmpty) { clearTimeout(group.rebalanceTimer); group.rebalanceTimer = undefined }
  }

  private tryCompleteJoin(group: Group): void {
    if (group.state !== 'PreparingRebalance') return
    if (group.rebalanceTimer && group.members.size > 0 && this.initialDelayPending(group)) return
    if ([...group.members.values()].every(m => m.awaitingJoin)) this.completeJoin(group)
  }

  /** True while a brand-new group is still inside its initial rebalance delay. */
  private initialDelayPending(group: Group): boolean {
    return group.generationId === 0 && this.config.groupInitialRebalanceDelayMs > 0
  }

  private completeJoin(group: Group): void {
    if (group.state !== 'PreparingRebalance') return
    clearTimeout(group.rebalanceTimer)
    group.rebalanceTimer = undefined
    for (const member of [...group.members.values()]) {
      if (!member.awaitingJoin) this.removeMember(group, member, 'did not rejoin in time', false)
    }
    group.generationId++
    if (group.members.size === 0) {
      group.protocolName = ''
      group.leaderId = ''
      this.transition(group, 'Empty')
      return
    }
    group.protocolName = this.voteProtocol(group)
    if (!group.members.has(group.leaderId)) group.leaderId = group.members.keys().next().value!
    this.transition(group, 'CompletingRebalance')
    for (const member of group.members.values()) {
      const answer = member.awaitingJoin!
      member.awaitingJoin = undefined
      this.touch(group, member)
      answer(this.joinResult(group, member))
    }
  }

  private voteProtocol(group: Group): string {
    const members = [...group.members.values()]
    const candidates = members[0]!.protocols.map(p => p.name).filter(name => members.every(m => m.protocols.some(p => p.name === name)))
    const votes = new Map<string, number>()
    for (const member of members) {
      const choice = member.protocols.find(p => candidates.includes(p.name))!.name
      votes.set(choice, (votes.get(choice) ?? 0) + 1)
    }
    return [...votes].sort((a, b) => b[1] - a[1])[0]![0]
  }

  private joinResult(group: Group, member: Member): JoinResult {
    const isLeader = member.memberId === group.leaderId
    return {
      errorCode: 0,
      generationId: group.generationId,
      protocolName: group.protocolName,
      leader: group.leaderId,
      memberId: member.memberId,
      members: isLeader
        ? [...group.members.values()].map(m => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, metadata: m.protocols.find(p => p.name === group.protocolName)?.metadata ?? EMPTY }))
        : [],
    }
  }

  // ---- SyncGroup, Heartbeat, LeaveGroup ----

  private check(groupId: string, memberId: string, generationId: number): { group: Group; member: Member } | number {
    if (groupId === '') return ErrorCode.INVALID_GROUP_ID
    const group = this.groups.get(groupId)
    const member = group?.members.get(memberId)
    if (!group || !member || group.state === 'Empty' || group.state === 'Dead') return ErrorCode.UNKNOWN_MEMBER_ID
    if (generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION
    return { group, member }
  }

  sync(groupId: string, memberId: string, generationId: number, assignments: Array<{ memberId: string; assignment: Buffer }>): Promise<{ errorCode: number; assignment: Buffer }> {
    const checked = this.check(groupId, memberId, generationId)
    if (typeof checked === 'number') return Promise.resolve({ errorCode: checked, assignment: EMPTY })
    const { group, member } = checked
    this.touch(group, member)
    if (group.state === 'PreparingRebalance') return Promise.resolve({ errorCode: ErrorCode.REBALANCE_IN_PROGRESS, assignment: EMPTY })
    if (group.state === 'Stable') return Promise.resolve({ errorCode: 0, assignment: member.assignment })
    const parked = new Promise<{ errorCode: number; assignment: Buffer }>(resolve => { member.awaitingSync = resolve })
    if (memberId === group.leaderId) {
      const byMember = new Map(assignments.map(a => [a.memberId, a.assignment]))
      for (const m of group.members.values()) m.assignment = byMember.get(m.memberId) ?? EMPTY
      this.transition(group, 'Stable')
      for (const m of group.members.values()) this.answerSync(m, 0, m.assignment)
    }
    return parked
  }

  private answerSync(member: Member, errorCode: number, assignment: Buffer): void {
    const answer = member.awaitingSync
    member.awaitingSync = undefined
    answer?.({ errorCode, assignment })
  }

  heartbeat(groupId: string, memberId: string, generationId: number): number {
    const checked = this.check(groupId, memberId, generationId)
    if (typeof checked === 'number') return checked
    this.touch(checked.group, checked.member)
    return checked.group.state === 'PreparingRebalance' ? ErrorCode.REBALANCE_IN_PROGRESS : ErrorCode.NONE
  }

  leave(groupId: string, memberId: string): number {
    if (groupId === '') return ErrorCode.INVALID_GROUP_ID
    const group = this.groups.get(groupId)
    const member = group?.members.get(memberId)
    if (!group || !member) return ErrorCode.UNKNOWN_MEMBER_ID
    this.removeMember(group, member, 'left the group', true)
    return ErrorCode.NONE
  }

  /** Resets the member's session timer; expiry removes it as if it had left. */
  private touch(group: Group, member: Member): void {
    clearTimeout(member.sessionTimer)
    member.sessionTimer = setTimeout(() => {
      if (group.members.get(member.memberId) === member) this.removeMember(group, member, `session timeout of ${member.sessionTimeoutMs} ms expired`, true)
    }, member.sessionTimeoutMs).unref()
  }

  private removeMember(group: Group, member: Member, reason: string, rebalance: boolean): void {
    clearTimeout(member.sessionTimer)
    group.members.delete(member.memberId)
    this.logger.info('member removed', { group: group.id, member: member.memberId, reason })
    member.awaitingJoin?.({ errorCode: ErrorCode.UNKNOWN_MEMBER_ID, generationId: -1, protocolName: '', leader: '', memberId: member.memberId, members: [] })
    member.awaitingJoin = undefined
    this.answerSync(member, ErrorCode.UNKNOWN_MEMBER_ID, EMPTY)
    if (!rebalance) return
    if (group.state === 'Stable' || group.state === 'CompletingRebalance') this.prepareRebalance(group, reason)
    if (group.state === 'PreparingRebalance') {
      if (group.members.size === 0) this.completeJoin(group)
      else this.tryCompleteJoin(group)
    }
  }

  // ---- Offsets ----

  commitOffsets(groupId: string, memberId: string, generationId: number, offsets: OffsetEntry[]): number[] {
    const codes = offsets.map(o => (o.metadata !== null && Buffer.byteLength(o.metadata) > this.config.offsetMetadataMaxBytes ? ErrorCode.OFFSET_METADATA_TOO_LARGE : ErrorCode.NONE))
    const refuse = (code: number): number[] => offsets.map(() => code)
    if (groupId === '') return refuse(ErrorCode.INVALID_GROUP_ID)
    const group = this.groups.get(groupId)
    if (generationId < 0 && memberId === '') {
      // A standalone commit (admin tools, assign()-mode consumers) is allowed only on an empty group.
      if (group && group.state !== 'Empty' && group.state !== 'Dead') return refuse(ErrorCode.UNKNOWN_MEMBER_ID)
    } else {
      const checked = this.check(groupId, memberId, generationId)
      if (typeof checked === 'number') return refuse(checked)
      if (checked.group.state === 'CompletingRebalance') return refuse(ErrorCode.REBALANCE_IN_PROGRESS)
      this.touch(checked.group, checked.member)
    }
    const accepted = offsets.filter((_, i) => codes[i] === ErrorCode.NONE)
    if (accepted.length > 0) this.offsets.commit(groupId, accepted, this.now())
    if (!group) this.getOrCreate(groupId)
    return codes
  }

  committed(groupId: string, topic: string, partition: number): CommittedOffset | undefined {
    return this.offsets.get(groupId, topic, partition)
  }

  allCommitted(groupId: string): Array<CommittedOffset & { topic: string; partition: number }> {
    return this.offsets.all(groupId)
  }

  stageTxnOffsets(groupId: string, producerId: bigint, offsets: OffsetEntry[]): void {
    this.offsets.stage(groupId, producerId, offsets)
  }

  /** Resolves once the outcome is durable in offsets.log. */
  completeTxnOffsets(groupId: string, producerId: bigint, commit: boolean): Promise<void> {
    const durable = this.offsets.complete(groupId, producerId, commit, this.now())
    if (commit) this.getOrCreate(groupId)
    return durable
  }

  /** Resolves once every offset change so far is durable: requests that changed or read offsets answer after it. */
  offsetsFlushed(): Promise<void> {
    return this.offsets.flushed()
  }

  hasPendingTxnOffsets(groupId: string, producerId: bigint): boolean {
    return this.offsets.hasPending(groupId, producerId)
  }

  private expireOffsets(): void {
    const nowMs = this.now()
    for (const groupId of this.offsets.groups()) {
      const group = this.groups.get(groupId)
      if (group && group.state !== 'Empty') continue
      const since = Math.max(group?.emptySinceMs ?? 0, this.offsets.lastCommitMs(groupId))
      if (nowMs - since > this.config.offsetsRetentionMs) {
        this.offsets.deleteGroup(groupId)
        this.groups.delete(groupId)
        this.logger.info('group offsets expired', { group: groupId })
      }
    }
  }

  // ---- Describe, list, delete ----

  describe(groupId: string): { state: GroupState; protocolType: string; protocolName: string; members: Array<{ memberId: string; groupInstanceId: string | null; clientId: string; clientHost: string; metadata: Buffer; assignment: Buffer }> } {
    const group = this.groups.get(groupId)
    if (!group) return { state: 'Dead', protocolType: '', protocolName: '', members: [] }
    const stable = group.state === 'Stable'
    return {
      state: group.state,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      members: [...group.members.values()].map(m => ({
        memberId: m.memberId, groupInstanceId: m.groupInstanceId, clientId: m.clientId, clientHost: m.clientHost,
        metadata: m.protocols.find(p => p.name === group.protocolName)?.metadata ?? EMPTY,
        assignment: stable ? m.assignment : EMPTY,
      })),
    }
  }

  list(): Array<{ groupId: string; protocolType: string }> {
    const ids = new Set([...this.groups.keys(), ...this.offsets.groups()])
    return [...ids].sort().map(groupId => ({ groupId, protocolType: this.groups.get(groupId)?.protocolType ?? '' }))
  }

  deleteGroup(groupId: string): number {
    const group = this.groups.get(groupId)
    if (!group && !this.offsets.hasOffsets(groupId)) return ErrorCode.GROUP_ID_NOT_FOUND
    if (group && group.members.size > 0) return ErrorCode.NON_EMPTY_GROUP
    this.offsets.deleteGroup(groupId)
    this.groups.delete(groupId)
    return ErrorCode.NONE
  }

  async close(): Promise<void> {
    clearInterval(this.sweepTimer)
    for (const group of this.groups.values()) {
      clearTimeout(group.rebalanceTimer)
      for (const timer of group.pendingMembers.values()) clearTimeout(timer)
      for (const member of group.members.values()) {
        clearTimeout(member.sessionTimer)
        member.awaitingJoin?.({ errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, generationId: -1, protocolName: '', leader: '', memberId: member.memberId, members: [] })
        this.answerSync(member, ErrorCode.COORDINATOR_NOT_AVAILABLE, EMPTY)
      }
    }
    await this.offsets.close()
  }
}

function sameProtocols(a: Member['protocols'], b: Member['protocols']): boolean {
  return a.length === b.length && a.every((p, i) => p.name === b[i]!.name && p.metadata.equals(b[i]!.metadata))
}
