// Quick picks that turn a tree entry into namespaces to run in.
import * as vscode from 'vscode';
import type { TreeEntry } from '../../explorer/treeModel';
import { freeCommand, splitCommandLine, type NetCommand } from '../../netns/command';
import { menuEntries } from '../../netns/catalog';
import { hostTarget, networkTarget, sandboxTarget, targetNode, type Target } from '../../netns/target';
import type { SwarmSnapshot } from '../../swarm/snapshot';

type NamespacePick = vscode.QuickPickItem & { make: (nodeId: string) => Target | undefined };

/** The namespace kinds that exist on a node: host, ingress, and each overlay network's. */
function namespacePicks(snapshot: SwarmSnapshot): NamespacePick[] {
  const node = (id: string) => snapshot.nodeById.get(id);
  const picks: NamespacePick[] = [
    { label: '$(server) host namespace', description: "the node's own network stack", make: (id) => (node(id) ? hostTarget(node(id)!) : undefined) },
    { label: '$(globe) ingress_sbox', description: 'the routing mesh namespace', make: (id) => (node(id) ? { ns: 'ingress', node: targetNode(node(id)!) } : undefined) },
  ];
  for (const network of snapshot.networks.filter((n) => n.driver === 'overlay')) {
    picks.push({ label: `$(type-hierarchy) overlay ${network.name}`, description: 'bridge and vxlan0 with the forwarding table', make: (id) => (node(id) ? networkTarget('overlay', node(id)!, network) : undefined) });
    const hasVip = (snapshot.servicesByNetwork.get(network.id) ?? []).some((s) => s.endpointMode === 'vip' && s.virtualIps.some((v) => v.networkId === network.id));
    if (hasVip) picks.push({ label: `$(symbol-event) lb ${network.name}`, description: 'the load balancer namespace (IPVS)', make: (id) => (node(id) ? networkTarget('lb', node(id)!, network) : undefined) });
  }
  return picks;
}

/** One target for an entry; asks for the namespace on a node, and for the node on a network. */
export async function pickTarget(snapshot: SwarmSnapshot, entry: TreeEntry): Promise<Target | undefined> {
  const ref = entry.ref;
  if (!ref) return undefined;
  switch (ref.kind) {
    case 'task': {
      const task = snapshot.tasks.find((t) => t.id === ref.id);
      if (!task) throw new Error('That task is gone: refresh the view.');
      return sandboxTarget(snapshot, task);
    }
    case 'node': {
      const pick = await vscode.window.showQuickPick(namespacePicks(snapshot), { title: `Which namespace on ${entry.label}?` });
      return pick?.make(ref.id);
    }
    case 'network': {
      const network = snapshot.networkById.get(ref.id);
      if (!network) throw new Error('That network is gone: refresh the view.');
      const nodes = snapshot.nodes.filter((n) => (snapshot.tasksByNetwork.get(network.id) ?? []).some((t) => t.nodeId === n.id));
      const pick = await vscode.window.showQuickPick(
        nodes.map((n) => ({ label: n.hostname, description: n.address, node: n })),
        { title: `Overlay namespace of ${network.name} on which node?` },
      );
      return pick ? networkTarget('overlay', pick.node, network) : undefined;
    }
    case 'service': {
      const tasks = (snapshot.tasksByService.get(ref.id) ?? []).filter((t) => t.state === 'running');
      const pick = await vscode.window.showQuickPick(
        tasks.map((t) => sandboxTarget(snapshot, t)).map((target) => ({ label: target.ns === 'sandbox' ? target.task.name : '', description: `on ${target.node.hostname}`, target })),
        { title: `Which task of ${entry.label}?` },
      );
      return pick?.target;
    }
  }
}

/** Every target an entry stands for across the swarm: a service's tasks, a namespace on every node. */
export async function pickTargetsEverywhere(snapshot: SwarmSnapshot, entry: TreeEntry): Promise<Target[] | undefined> {
  const ref = entry.ref;
  if (!ref) return undefined;
  const readyNodes = snapshot.nodes.filter((n) => n.state === 'ready');
  switch (ref.kind) {
    case 'service':
      return (snapshot.tasksByService.get(ref.id) ?? []).filter((t) => t.state === 'running').map((t) => sandboxTarget(snapshot, t));
    case 'network': {
      const network = snapshot.networkById.get(ref.id);
      return network ? readyNodes.map((n) => networkTarget('overlay', n, network)) : undefined;
    }
    case 'node':
    case 'task': {
      const pick = await vscode.window.showQuickPick(namespacePicks(snapshot), { title: 'Which namespace, on every node?' });
      return pick ? readyNodes.map((n) => pick.make(n.id)).filter((t): t is Target => t !== undefined) : undefined;
    }
  }
}

type CommandPick = vscode.QuickPickItem & { command?: NetCommand };

/** A catalog command, or one the user types (split into words, never given to a shell). */
export async function pickCommand(title: string): Promise<NetCommand | undefined> {
  const picks: CommandPick[] = [
    { label: '$(edit) Type a command…', description: 'run as an argument list, without a shell' },
    { label: 'Catalog', kind: vscode.QuickPickItemKind.Separator },
    ...menuEntries().map((e) => ({ label: e.command.title, description: e.group, command: e.command })),
  ];
  const pick = await vscode.window.showQuickPick(picks, { title, matchOnDescription: true });
  if (!pick) return undefined;
  if (pick.command) return pick.command;
  return askFreeCommand(title);
}

export async function askFreeCommand(title: string): Promise<NetCommand | undefined> {
  const line = await vscode.window.showInputBox({
    title,
    prompt: 'Words are split like a shell splits them, but no shell runs them: no pipes, variables or globs.',
    placeHolder: 'ip route get 10.0.1.5',
    validateInput: (value) => {
      try {
        return splitCommandLine(value).length ? undefined : 'Type a command.';
      } catch (error) {
        return (error as Error).message;
      }
    },
  });
  return line === undefined ? undefined : freeCommand(splitCommandLine(line));
}
