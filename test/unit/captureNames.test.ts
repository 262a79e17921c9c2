// The names kept beside a capture: written, read back, and anything else in their place ignored.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { capturedNames, captureNamesPath, readCaptureNames, removeCaptureNames, writeCaptureNames } from '../../src/capture/captureNames';
import { PacketIndex } from '../../src/capture/packetIndex';
import { networkFromApi, nodeFromApi, serviceFromApi, taskFromApi } from '../../src/engine/records';
import { addressNames, buildSnapshot, describeOwner, lookupAddress } from '../../src/swarm/snapshot';
import { syntheticSwarm } from '../support/syntheticSwarm';

describe('names kept beside a capture', () => {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'capture-names-'));
  const capture = path.join(folder, 'incident.pcap');
  after(() => fs.rmSync(folder, { recursive: true, force: true }));

  it('round trip, with the time they were read', () => {
    const names = new Map([['10.0.1.2', 'schemaregistry.1 on swarm00'], ['10.0.1.10', 'sourcemysql.1 on swarm02']]);
    assert.equal(writeCaptureNames(capture, names, new Date('2026-11-26T13:46:54.000Z')), undefined);
    assert.equal(captureNamesPath(capture), `${capture}.names.json`);
    const back = readCaptureNames(capture)!;
    assert.equal(back.takenAt, '2026-11-26T13:46:54.000Z');
    assert.deepEqual([...back.names].sort(), [...names].sort());
    removeCaptureNames(capture);
    assert.equal(readCaptureNames(capture), undefined);
  });
  it('a missing, broken or foreign file is no names, never an error', () => {
    assert.equal(readCaptureNames(path.join(folder, 'none.pcap')), undefined);
    fs.writeFileSync(captureNamesPath(capture), '{ not json');
    assert.equal(readCaptureNames(capture), undefined);
    fs.writeFileSync(captureNamesPath(capture), JSON.stringify({ version: 99, takenAt: 'x', names: {} }));
    assert.equal(readCaptureNames(capture), undefined, 'another version');
    fs.writeFileSync(captureNamesPath(capture), JSON.stringify({ version: 1, takenAt: '2026-11-26T13:46:54.000Z', names: { '10.0.1.2': 'ok', '10.0.1.3': 7 } }));
    assert.deepEqual([...readCaptureNames(capture)!.names], [['10.0.1.2', 'ok']], 'only text names');
  });
  it('an unwritable place is said, not thrown', () => {
    assert.match(writeCaptureNames('/etc/passwd/x.pcap', new Map([['10.0.0.1', 'n']]))!, /ENOTDIR/);
  });
  it('kept names first, then the file\'s name resolution block', () => {
    const index = new PacketIndex();
    index.addressNames.set('10.0.1.2', ['schemaregistry.1_on_swarm00']);
    index.addressNames.set('10.0.1.9', ['connect.1_on_swarm01']);
    const kept = { takenAt: '2026-11-26T13:46:54.000Z', names: new Map([['10.0.1.2', 'schemaregistry.1 on swarm00']]) };
    const nameOf = capturedNames(index, kept);
    assert.equal(nameOf('10.0.1.2'), 'schemaregistry.1 on swarm00');
    assert.equal(nameOf('10.0.1.9'), 'connect.1_on_swarm01');
    assert.equal(nameOf('10.0.1.10'), undefined);
    assert.equal(capturedNames(index, undefined)('10.0.1.2'), 'schemaregistry.1_on_swarm00');
  });
  it('the swarm names every address it knows, as the packet list does', () => {
    const raw = syntheticSwarm({ nodes: 4, services: 5, tasks: 12, networks: 1 });
    const snapshot = buildSnapshot({ nodes: raw.nodes.map(nodeFromApi), services: raw.services.map(serviceFromApi), tasks: raw.tasks.map(taskFromApi), networks: raw.networks.map(networkFromApi) });
    const names = addressNames(snapshot);
    assert.equal(names.size, snapshot.addressIndex.size);
    for (const [address, name] of names) assert.equal(name, describeOwner(lookupAddress(snapshot, address)!));
  });
});
