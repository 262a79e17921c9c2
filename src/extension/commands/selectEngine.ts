import * as vscode from 'vscode';
import { listContexts } from '../../engine/endpoint';
import { SECTION } from '../settings';

type Pick = vscode.QuickPickItem & { apply: () => Promise<void> | void };

/** swarmDoctor.selectEngine: choose a docker context or type a host; stored in the settings. */
export async function selectEngine(): Promise<void> {
  const config = vscode.workspace.getConfiguration(SECTION);
  const set = async (context: string, host: string) => {
    await config.update('context', context, vscode.ConfigurationTarget.Global);
    await config.update('host', host, vscode.ConfigurationTarget.Global);
  };
  const current = config.get<string>('context', '');
  const picks: Pick[] = [
    {
      label: '$(sync) Follow the docker CLI',
      description: 'DOCKER_HOST, DOCKER_CONTEXT or the current context',
      apply: () => set('', ''),
    },
    ...listContexts().map((c): Pick => ({
      label: `$(plug) ${c.name}`,
      description: c.host + (c.name === current ? ' (selected)' : ''),
      detail: c.description,
      apply: () => set(c.name, ''),
    })),
    {
      label: '$(edit) Enter a host…',
      description: 'unix:///path, tcp://host:2376, ssh://user@host',
      apply: async () => {
        const host = await vscode.window.showInputBox({
          title: 'Docker host of a swarm manager',
          value: config.get<string>('host', ''),
          placeHolder: 'unix:///var/run/docker.sock',
          validateInput: (value) => (/^(unix|tcp|ssh|npipe|https?):\/\//.test(value.trim()) || value.trim().startsWith('/') ? undefined : 'Use unix://, tcp://, ssh:// or npipe://'),
        });
        if (host !== undefined) await set('', host.trim());
      },
    },
  ];
  const choice = await vscode.window.showQuickPick(picks, { title: 'Swarm Doctor: which Docker engine?', placeHolder: 'A docker context or host of a swarm manager' });
  await choice?.apply();
}
