import fs from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat; 0 once it is gone. */
function cpuSecondsOf(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** The pids of every process whose name (comm) is `name`. */
function pidsNamed(name: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === name) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** Busy CPU seconds of the whole machine (all cores), from /proc/stat. */
function machineBusySeconds(): number {
  const [, ...values] = (fs.readFileSync('/proc/stat', 'utf8').split('\n')[0] as string).trim().split(/\s+/);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = values.map(Number) as number[];
  void idle;
  void iowait;
  return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / TICKS_PER_SECOND;
}

export interface CpuShare {
  /** Cores used on average over the interval, by the given processes, by PostgreSQL's, and by the whole machine. */
  processes: number;
  postgres: number;
  machine: number;
}

/** Starts measuring; the returned function gives the cores each side used since (Linux only). */
export function cpuMeter(pids: number[]): () => CpuShare {
  const started = performance.now();
  const postgresBefore = new Map(pidsNamed('postgres').map((pid) => [pid, cpuSecondsOf(pid)]));
  const sum = (list: number[]) => list.reduce((total, pid) => total + cpuSecondsOf(pid), 0);
  const before = { processes: sum(pids), machine: machineBusySeconds() };
  return () => {
    const seconds = (performance.now() - started) / 1000;
    // per backend: one started meanwhile counts from zero; one gone meanwhile (its time is no longer readable) not at all
    let postgres = 0;
    for (const pid of pidsNamed('postgres')) {
      const now = cpuSecondsOf(pid);
      if (now > 0) postgres += now - (postgresBefore.get(pid) ?? 0);
    }
    const share = (used: number) => Math.round((used / seconds) * 100) / 100;
    return { processes: share(sum(pids) - before.processes), postgres: share(postgres), machine: share(machineBusySeconds() - before.machine) };
  };
}
