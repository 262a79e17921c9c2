import * as vscode from 'vscode';
import type { TreeEntry } from '../../explorer/treeModel';
import type { CommandSession } from '../commandSession';
import type { ComparePanels } from '../compare/comparePanels';
import type { OutputDocuments } from '../outputDocuments';
import { askFreeCommand, pickCommand, pickTarget, pickTargetsEverywhere } from './pickTarget';

function showError(error: unknown): void {
  void vscode.window.showErrorMessage((error as Error).message);
}

/** swarmDoctor.runCommand: a catalog or typed command in the entry's namespace. */
export function runCommand(session: CommandSession, outputs: OutputDocuments, free = false) {
  return async (entry?: TreeEntry): Promise<void> => {
    try {
      if (!entry?.ref) {
        void vscode.window.showInformationMessage('Pick a task, node or network in the Swarm Doctor views, then run a command on it.');
        return;
      }
      const { snapshot } = session.current();
      const target = await pickTarget(snapshot, entry);
      if (!target) return;
      const command = free ? await askFreeCommand(`Command to run in ${entry.label}`) : await pickCommand(`Run in ${entry.label}`);
      if (!command) return;
      await outputs.run(target, command);
    } catch (error) {
      showError(error);
    }
  };
}

/** swarmDoctor.compareAcrossNodes: the same command on every node (or every task), side by side. */
export function compareAcrossNodes(session: CommandSession, panels: ComparePanels) {
  return async (entry?: TreeEntry): Promise<void> => {
    try {
      if (!entry?.ref) {
        void vscode.window.showInformationMessage('Pick a node, service or network in the Swarm Doctor views to compare a command across the swarm.');
        return;
      }
      const { snapshot, runner } = session.current();
      const targets = await pickTargetsEverywhere(snapshot, entry);
      if (!targets?.length) return;
      const command = await pickCommand(`Run in ${targets.length} places and compare`);
      if (!command) return;
      await panels.run(runner, targets, command);
    } catch (error) {
      showError(error);
    }
  };
}
