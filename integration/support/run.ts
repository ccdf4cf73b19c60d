// Runs an outside client (kcat, Debian's python3) to completion, with a deadline, capturing output.

import { spawn } from 'node:child_process'

export interface RunResult { code: number | null; stdout: string; stderr: string }

export function run(command: string, args: string[], options: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...options.env } })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', chunk => { stdout += chunk })
    child.stderr.on('data', chunk => { stderr += chunk })
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${command} ${args.join(' ')} timed out\nstdout: ${stdout.slice(-2000)}\nstderr: ${stderr.slice(-4000)}`)) }, options.timeoutMs ?? 60_000)
    child.on('error', error => { clearTimeout(timer); reject(new Error(`${command} could not start (is it installed? .ci/run installs it): ${error.message}`)) })
    child.on('close', code => { clearTimeout(timer); resolve({ code, stdout, stderr }) })
    // A command that exits without reading its input (kcat -Q, -L) closes the pipe first: not an error.
    child.stdin.on('error', () => {})
    child.stdin.end(options.input ?? '')
  })
}

/** Debian's own python3, which has python3-confluent-kafka and python3-kafka. */
export const debianPython = '/usr/bin/python3'
