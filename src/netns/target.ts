// WHERE a command runs: a network namespace on a node of the swarm.
import type { NetworkRecord, NodeRecord, TaskRecord } from '../engine/types';
import { splitCidr, taskName, type SwarmSnapshot } from '../swarm/snapshot';

export interface TargetNode {
  id: string;
  hostname: string;
  address: string;
}

export interface TargetTask {
  id: string;
  name: string;
  containerId: string;
  /** Addresses without prefix, all networks. */
  addresses: string[];
}

export type Target =
  /** A task's container sandbox. */
  | { ns: 'sandbox'; node: TargetNode; task: TargetTask }
  /** The node's own (host) namespace. */
  | { ns: 'host'; node: TargetNode }
  /** Swarm's routing-mesh namespace. */
  | { ns: 'ingress'; node: TargetNode }
  /** The load balancer namespace of an overlay network (VIP services). */
  | { ns: 'lb'; node: TargetNode; network: { id: string; name: string } }
  /** The overlay namespace of a network: its bridge and the vxlan0 device with the FDB. */
  | { ns: 'overlay'; node: TargetNode; network: { id: string; name: string } }
  /**
   * A short-lived task of ours, pinned to the node and attached to the network: for probing from a
   * node where no task of the network runs. Only the manager can create it.
   */
  | { ns: 'attached'; node: TargetNode; network: { id: string; name: string } };

export type NamespaceKind = Target['ns'];

/** A network id as the engine gives it; anything else must not reach a path. */
const NETWORK_ID = /^[a-z0-9]{10,64}$/;

/**
 * The namespace file name of swarm's own namespaces in the engine's netns folder
 * (libnetwork: "ingress_sbox", "lb_" + 9 chars of the network id, "1-" + 10 chars of it).
 * Undefined for sandboxes and the host namespace.
 */
export function namespaceFileName(target: Target): string | undefined {
  switch (target.ns) {
    case 'ingress':
      return 'ingress_sbox';
    case 'lb':
    case 'overlay': {
      if (!NETWORK_ID.test(target.network.id)) throw new Error(`"${target.network.id}" is not a network id`);
      return target.ns === 'lb' ? `lb_${target.network.id.slice(0, 9)}` : `1-${target.network.id.slice(0, 10)}`;
    }
    default:
      return undefined;
  }
}

export function describeTarget(target: Target): string {
  switch (target.ns) {
    case 'sandbox':
      return `${target.node.hostname} / ${target.task.name} / sandbox`;
    case 'host':
      return `${target.node.hostname} / host namespace`;
    case 'ingress':
      return `${target.node.hostname} / ingress_sbox`;
    case 'lb':
      return `${target.node.hostname} / lb_${target.network.name}`;
    case 'overlay':
      return `${target.node.hostname} / overlay ${target.network.name}`;
    case 'attached':
      return `${target.node.hostname} / probe task on ${target.network.name}`;
  }
}

export function targetNode(node: NodeRecord): TargetNode {
  return { id: node.id, hostname: node.hostname, address: node.address };
}

export function sandboxTarget(snapshot: SwarmSnapshot, task: TaskRecord): Target {
  const node = task.nodeId ? snapshot.nodeById.get(task.nodeId) : undefined;
  if (!node) throw new Error(`The task ${task.id.slice(0, 12)} is not assigned to a node.`);
  if (!task.containerId || task.state !== 'running') {
    throw new Error(`The task ${taskName(task, snapshot.serviceById.get(task.serviceId))} is ${task.state}: only a running task has a namespace to run in.`);
  }
  return {
    ns: 'sandbox',
    node: targetNode(node),
    task: {
      id: task.id,
      name: taskName(task, snapshot.serviceById.get(task.serviceId)),
      containerId: task.containerId,
      addresses: task.addresses.flatMap((a) => a.addresses.map((c) => splitCidr(c).address)),
    },
  };
}

/** The node's own (host) namespace. */
export function hostTarget(node: NodeRecord): Target {
  return { ns: 'host', node: targetNode(node) };
}

export function networkTarget(ns: 'lb' | 'overlay', node: NodeRecord, network: NetworkRecord): Target {
  return { ns, node: targetNode(node), network: { id: network.id, name: network.name } };
}

/** Parses the CLI's --ns value: sandbox | host | ingress | lb:NET | overlay:NET. */
export function parseNamespaceOption(value: string): { ns: NamespaceKind; network?: string } {
  const [kind, network] = value.split(/:(.*)/s, 2);
  if (kind === 'sandbox' || kind === 'host' || kind === 'ingress') {
    if (network) throw new Error(`--ns ${kind} takes no network`);
    return { ns: kind };
  }
  if (kind === 'lb' || kind === 'overlay') {
    if (!network) throw new Error(`--ns ${kind} needs a network: ${kind}:NETWORK`);
    return { ns: kind, network };
  }
  throw new Error(`--ns must be sandbox, host, ingress, lb:NETWORK or overlay:NETWORK, not "${value}"`);
}
