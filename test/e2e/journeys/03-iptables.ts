import { expect, type Journey } from './journey';

export const iptables: Journey = {
  id: '03-iptables-in-task',
  title: 'run iptables -nvL on the task and see the output editor',
  async run({ wb, log }) {
    await wb.closeAllEditors();
    await wb.showSwarmDoctor();
    await wb.widenSidebar(460);
    await wb.expand('swarm02', 'swarmDoctor.nodes');
    await wb.contextMenu('sourcemysql.1', 'Run Network Command', 'swarmDoctor.nodes');
    await wb.quickInput(/^Run in sourcemysql\.1$/, { text: 'iptables -nvL (filter)', pick: 'iptables -nvL (filter)' });
    log('iptables -nvL (filter) chosen; waiting for its output');
    const text = await wb.waitEditorText(/^# exit: /m, 90_000);
    expect(/^# where: .*swarm02.*sourcemysql\.1/m.test(text), `the header does not say where it ran:\n${text.slice(0, 600)}`);
    expect(/^# command:\s+iptables -nvL \(filter\)$/m.test(text), `the header does not name the command:\n${text.slice(0, 600)}`);
    expect(/^# via: /m.test(text), `the header does not say how it ran:\n${text.slice(0, 600)}`);
    expect(/^# exit:\s+0 \(ok\)/m.test(text), `iptables did not exit 0:\n${text.slice(0, 600)}`);
    expect(/^Chain INPUT \(policy ACCEPT/m.test(text), `no INPUT chain in the output:\n${text.slice(0, 1200)}`);
    const title = await wb.activeTabTitle();
    expect(title.includes('sourcemysql.1') && title.includes('iptables -nvL (filter)'), `the editor's title is "${title}"`);
    log(`output editor "${title}": ${/^# via: (.*)$/m.exec(text)?.[1]}`);
    await wb.clearHover();
  },
};
