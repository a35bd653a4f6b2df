/**
 * The V8 options every shipped launcher gives the agent's Node process (the Windows
 * service's command line, the DaemonSet's NODE_OPTIONS, `npm start`; bench:reconcile
 * runs the agent with them too). node-flags.test.ts checks the launchers carry them.
 *
 * `--max-semi-space-size=4` (MiB; Node's default grows it to 16): the young generation
 * is committed twice over, so at 16 MiB it alone held 32 MiB resident. The agent's
 * long-lived state (100k rules) is promoted anyway and what dies young is small, so a
 * smaller nursery costs no measurable CPU: bench:reconcile at 100k rules, two runs each
 * way alternated, resident set 180/181 MB after the cold converge and 198/202 MB at most
 * over all phases, against 205/210 and 238/241 MB without it; cold CPU and stalls within
 * the runs' noise.
 */
export const AGENT_NODE_OPTIONS = ['--max-semi-space-size=4'] as const;
