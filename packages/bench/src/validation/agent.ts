/** The spec's agent integration test as a live check. */
import { ImplementationAgent } from '@tributary/runtime';
import { verify, type Check } from './checks.js';

export const agentCheck: Check = {
  mechanism: 'Agent Integration',
  scenario: 'implement_feature x 4',
  async run() {
    const agent = new ImplementationAgent({ maxThreads: 4 });
    try {
      agent.configureCoordination({
        convergenceType: 'progressive',
        isolation: 'workspace',
        stateManagement: 'immutable',
        protocols: ['heartbeat', 'registration'],
      });
      const r = await agent.executeTask({ type: 'implement_feature', parallelStreams: 4 });
      verify(r.status === 'success', `status ${r.status}: ${r.reason}`);
      verify(r.streamsCompleted === 4, `${r.streamsCompleted} streams completed, expected 4`);
      verify(r.conflicts === 0, `${r.conflicts} conflicts`);
      verify(r.recoveryAttempts === 0, `${r.recoveryAttempts} recovery attempts`);
      const files = r.merged.reduce((n, m) => n + m.files.length, 0);
      return `status success, 4/4 streams, 0 conflicts, 0 recoveries; ${files} files merged in ${r.durationMs} ms`;
    } finally {
      await agent.close();
    }
  },
};
