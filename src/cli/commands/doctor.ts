// swarm-doctor check [--service NAME] [--quick] [--json] [--verbose]
// swarm-doctor matrix --service NAME [--port N] [--client SERVICE] [--network NET] [--json]
// swarm-doctor diagnose CLIENT SERVER --port N [-o DIR] [--json]
// Exit status 1 when a finding is an error (or a matrix cell fails), so cron and CI can use them.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { EngineClient } from '../../engine/types';
import { runChecks } from '../../doctor/checks';
import { diagnoseConnection } from '../../doctor/diagnose';
import { exitStatusFor } from '../../doctor/findings';
import { formatCheckReport, formatDiagnosis, formatMatrix } from '../../doctor/format';
import { FAILING_STATES, runMatrix } from '../../doctor/matrix';
import type { DoctorContext } from '../../doctor/report';
import { targetNode } from '../../netns/target';
import { fetchSwarm } from '../../swarm/fetchSnapshot';
import { UsageError } from '../args';
import { createRunner, type RunnerCliOptions } from './exec';

export interface DoctorCliOptions extends RunnerCliOptions {
  via?: string;
  json: boolean;
  verbose: boolean;
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

async function openDoctor(manager: EngineClient, options: DoctorCliOptions): Promise<{ ctx: DoctorContext; dispose: () => void }> {
  const { summary, snapshot } = await fetchSwarm(manager, { signal: options.signal });
  const { engines, runner } = await createRunner(manager, summary.swarm.nodeId, snapshot.nodes.filter((n) => n.state === 'ready').map(targetNode), options);
  const progress = options.verbose && !options.json ? (message: string) => options.err.write(`… ${message}\n`) : undefined;
  return {
    ctx: { snapshot, runner, signal: options.signal, progress },
    dispose: () => {
      void runner.retryCleanup();
      engines.dispose();
    },
  };
}

export async function runCheck(manager: EngineClient, options: DoctorCliOptions & { services: string[]; quick: boolean }): Promise<number> {
  const { ctx, dispose } = await openDoctor(manager, options);
  try {
    const report = await runChecks(ctx, { services: options.services, quick: options.quick });
    options.out.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatCheckReport(report, { verbose: options.verbose }));
    return exitStatusFor(report.findings);
  } finally {
    dispose();
  }
}

export async function runMatrixCommand(manager: EngineClient, options: DoctorCliOptions & { service?: string; ports: number[]; client?: string; network?: string }): Promise<number> {
  const { ctx, dispose } = await openDoctor(manager, options);
  try {
    const services = options.service ? [options.service] : ctx.snapshot.services.filter((s) => s.ports.some((p) => p.protocol === 'tcp')).map((s) => s.name);
    if (!services.length) throw new UsageError('no service publishes a TCP port: name one with --service and its --port');
    let failing = 0;
    const matrices = [];
    for (const service of services) {
      const matrix = await runMatrix(ctx.snapshot, ctx.runner, { service, ports: options.ports, clientService: options.client, network: options.network }, { signal: options.signal });
      matrices.push(matrix);
      failing += matrix.cells.filter((c) => FAILING_STATES.has(c.state)).length;
      if (!options.json) options.out.write(`${formatMatrix(matrix)}\n\n`);
    }
    if (options.json) options.out.write(`${JSON.stringify(options.service ? matrices[0] : matrices, null, 2)}\n`);
    return failing ? 1 : 0;
  } finally {
    dispose();
  }
}

export async function runDiagnose(manager: EngineClient, options: DoctorCliOptions & { client?: string; server?: string; port?: number; output?: string }): Promise<number> {
  if (!options.client || !options.server) throw new UsageError('diagnose needs a client task and a server task, e.g. `diagnose sourcemysql.1 schemaregistry.1 --port 8081`');
  const { ctx, dispose } = await openDoctor(manager, options);
  try {
    const captureDir = options.output ? path.resolve(options.output) : fs.mkdtempSync(path.join(os.tmpdir(), 'swarm-doctor-diagnose-'));
    fs.mkdirSync(captureDir, { recursive: true });
    const diagnosis = await diagnoseConnection(ctx, { client: options.client, server: options.server, port: options.port ?? 0, captureDir });
    options.out.write(options.json ? `${JSON.stringify(diagnosis, null, 2)}\n` : formatDiagnosis(diagnosis));
    return exitStatusFor(diagnosis.findings) || (diagnosis.faultNode ? 1 : 0);
  } finally {
    dispose();
  }
}
