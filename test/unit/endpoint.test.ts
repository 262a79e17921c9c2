import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { contextDigest, describeEndpoint, listContexts, parseDockerHost, resolveEndpoint, type EndpointEnvironment } from '../../src/engine/endpoint';
import { EngineError } from '../../src/engine/errors';

/** A docker config folder laid out the way the docker CLI writes it. */
function configDir(options: { current?: string; contexts?: { name: string; host: string; skipTls?: boolean; tls?: string[] }[] }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'docker-config-'));
  if (options.current) fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ auths: {}, currentContext: options.current }));
  for (const c of options.contexts ?? []) {
    const meta = path.join(dir, 'contexts', 'meta', contextDigest(c.name));
    fs.mkdirSync(meta, { recursive: true });
    fs.writeFileSync(path.join(meta, 'meta.json'), JSON.stringify({ Name: c.name, Metadata: { Description: `ctx ${c.name}` }, Endpoints: { docker: { Host: c.host, SkipTLSVerify: c.skipTls ?? false } } }));
    if (c.tls) {
      const tls = path.join(dir, 'contexts', 'tls', contextDigest(c.name), 'docker');
      fs.mkdirSync(tls, { recursive: true });
      for (const file of c.tls) fs.writeFileSync(path.join(tls, file), `PEM of ${file}`);
    }
  }
  return dir;
}

const env = (vars: Record<string, string>, home = '/nonexistent-home'): EndpointEnvironment => ({ env: vars, homeDir: home });

describe('docker host strings', () => {
  it('parses unix, tcp, ssh and bare paths', () => {
    assert.deepEqual(parseDockerHost('unix:///run/x.sock', 's'), { kind: 'unix', socketPath: '/run/x.sock', url: 'unix:///run/x.sock', source: 's', contextName: undefined });
    assert.equal(parseDockerHost('/run/y.sock', 's').url, 'unix:///run/y.sock');
    const tcp = parseDockerHost('tcp://10.0.0.5', 's');
    assert.equal(tcp.kind, 'tcp');
    assert.equal(tcp.kind === 'tcp' && tcp.port, 2375, 'plain tcp defaults to 2375');
    const tls = parseDockerHost('tcp://manager.example:2376', 's', { verify: true });
    assert.equal(tls.kind === 'tcp' && tls.tls?.verify, true);
    const ssh = parseDockerHost('ssh://ops@manager.example:2222', 's');
    assert.deepEqual([ssh.kind, ssh.kind === 'ssh' && ssh.username, ssh.kind === 'ssh' && ssh.port], ['ssh', 'ops', 2222]);
    const v6 = parseDockerHost('tcp://[fd00::1]:2375', 's');
    assert.equal(v6.kind === 'tcp' && v6.host, 'fd00::1');
  });

  it('rejects what the docker CLI rejects, with a sentence', () => {
    assert.throws(() => parseDockerHost('ftp://x', 'DOCKER_HOST'), (e: EngineError) => e.kind === 'config' && /Unsupported scheme "ftp"/.test(e.message));
    assert.throws(() => parseDockerHost('manager:2375', 'DOCKER_HOST'), /is not a docker host/);
    assert.throws(() => parseDockerHost('  ', 'DOCKER_HOST'), /is empty/);
  });
});

describe('endpoint resolution follows the docker CLI', () => {
  it('uses the default socket when nothing is configured', () => {
    const endpoint = resolveEndpoint({}, env({ DOCKER_CONFIG: configDir({}) }));
    assert.equal(endpoint.url, 'unix:///var/run/docker.sock');
  });

  it('DOCKER_HOST wins over DOCKER_CONTEXT and the current context', () => {
    const dir = configDir({ current: 'remote', contexts: [{ name: 'remote', host: 'tcp://remote:2375' }] });
    const endpoint = resolveEndpoint({}, env({ DOCKER_CONFIG: dir, DOCKER_HOST: 'unix:///run/lab.sock', DOCKER_CONTEXT: 'remote' }));
    assert.equal(endpoint.url, 'unix:///run/lab.sock');
    assert.equal(endpoint.source, 'DOCKER_HOST');
  });

  it('DOCKER_CONTEXT wins over currentContext', () => {
    const dir = configDir({ current: 'a', contexts: [{ name: 'a', host: 'tcp://a:2375' }, { name: 'b', host: 'ssh://me@b' }] });
    assert.equal(resolveEndpoint({}, env({ DOCKER_CONFIG: dir, DOCKER_CONTEXT: 'b' })).url, 'ssh://me@b');
    assert.equal(resolveEndpoint({}, env({ DOCKER_CONFIG: dir })).url, 'tcp://a:2375');
    assert.equal(resolveEndpoint({}, env({ DOCKER_CONFIG: dir })).contextName, 'a');
  });

  it('an explicit host beats an explicit context, which beats the environment', () => {
    const dir = configDir({ contexts: [{ name: 'a', host: 'tcp://a:2375' }] });
    const e = env({ DOCKER_CONFIG: dir, DOCKER_HOST: 'tcp://env:2375' });
    assert.equal(resolveEndpoint({ context: 'a', host: 'unix:///x.sock' }, e).url, 'unix:///x.sock');
    assert.equal(resolveEndpoint({ context: 'a' }, e).url, 'tcp://a:2375');
  });

  it('reads ~/.docker when DOCKER_CONFIG is not set', () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'home-'));
    fs.renameSync(configDir({ current: 'h', contexts: [{ name: 'h', host: 'tcp://home:2375' }] }), path.join(home, '.docker'));
    assert.equal(resolveEndpoint({}, env({}, home)).url, 'tcp://home:2375');
  });

  it('the default context uses DOCKER_HOST', () => {
    const dir = configDir({ current: 'default' });
    assert.equal(resolveEndpoint({ context: 'default' }, env({ DOCKER_CONFIG: dir, DOCKER_HOST: 'tcp://h:1' })).url, 'tcp://h:1');
  });

  it('loads a context TLS material and honours SkipTLSVerify', () => {
    const dir = configDir({ contexts: [
      { name: 'secure', host: 'tcp://m:2376', tls: ['ca.pem', 'cert.pem', 'key.pem'] },
      { name: 'insecure', host: 'tcp://m:2376', skipTls: true, tls: ['cert.pem', 'key.pem'] },
    ] });
    const secure = resolveEndpoint({ context: 'secure' }, env({ DOCKER_CONFIG: dir }));
    assert.ok(secure.kind === 'tcp' && secure.tls);
    assert.equal(secure.kind === 'tcp' && secure.tls?.ca, 'PEM of ca.pem');
    assert.equal(secure.kind === 'tcp' && secure.tls?.verify, true);
    assert.match(describeEndpoint(secure), /tcp:\/\/m:2376 TLS \(context secure\)/);
    const insecure = resolveEndpoint({ context: 'insecure' }, env({ DOCKER_CONFIG: dir }));
    assert.equal(insecure.kind === 'tcp' && insecure.tls?.verify, false);
    assert.match(describeEndpoint(insecure), /unverified/);
  });

  it('a context with a certificate but no key is an error', () => {
    const dir = configDir({ contexts: [{ name: 'half', host: 'tcp://m:2376', tls: ['cert.pem'] }] });
    assert.throws(() => resolveEndpoint({ context: 'half' }, env({ DOCKER_CONFIG: dir })), (e: EngineError) => e.kind === 'tls' && /not both/.test(e.message));
  });

  it('names the known contexts when one does not exist', () => {
    const dir = configDir({ contexts: [{ name: 'prod', host: 'tcp://p:2375' }] });
    assert.throws(
      () => resolveEndpoint({ context: 'nope' }, env({ DOCKER_CONFIG: dir })),
      (e: EngineError) => e.kind === 'context' && /"nope".*does not exist.*Known contexts: default, prod\./.test(e.message) && /docker context create/.test(e.hint ?? ''),
    );
    assert.throws(() => resolveEndpoint({}, env({ DOCKER_CONFIG: dir, DOCKER_CONTEXT: 'gone' })), /from DOCKER_CONTEXT\) does not exist/);
  });

  it('DOCKER_TLS_VERIFY reads ca, cert and key from DOCKER_CERT_PATH and names a missing file', () => {
    const certs = fs.mkdtempSync(path.join(os.tmpdir(), 'certs-'));
    for (const f of ['ca.pem', 'cert.pem', 'key.pem']) fs.writeFileSync(path.join(certs, f), f);
    const ok = resolveEndpoint({}, env({ DOCKER_HOST: 'tcp://m:2376', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certs }));
    assert.equal(ok.kind === 'tcp' && ok.tls?.cert, 'cert.pem');
    fs.rmSync(path.join(certs, 'key.pem'));
    assert.throws(
      () => resolveEndpoint({}, env({ DOCKER_HOST: 'tcp://m:2376', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certs })),
      (e: EngineError) => e.kind === 'tls' && e.message.includes(path.join(certs, 'key.pem')) && /ENOENT/.test(e.message),
    );
  });

  it('a broken config.json is reported, not ignored', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'docker-config-'));
    fs.writeFileSync(path.join(dir, 'config.json'), '{ not json');
    assert.throws(() => resolveEndpoint({}, env({ DOCKER_CONFIG: dir })), (e: EngineError) => e.kind === 'config' && e.message.includes('config.json'));
  });

  it('lists contexts, skipping damaged entries', () => {
    const dir = configDir({ contexts: [{ name: 'x', host: 'tcp://x:2375' }] });
    fs.mkdirSync(path.join(dir, 'contexts', 'meta', 'damaged'));
    fs.writeFileSync(path.join(dir, 'contexts', 'meta', 'damaged', 'meta.json'), '{');
    assert.deepEqual(listContexts(env({ DOCKER_CONFIG: dir })).map((c) => c.name), ['default', 'x']);
  });
});
