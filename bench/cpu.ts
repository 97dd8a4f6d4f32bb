import fs from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** The fields of /proc/<pid>/stat after the command name (state first), or undefined once the process is gone. */
function statFields(pid: number | string): string[] | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + system) a process has used; 0 once it is gone. */
function cpuSecondsOf(pid: number): number {
  const fields = statFields(pid);
  return fields ? (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND : 0;
}

/** The pids of every process for which `matches` holds of its pid ("gone meanwhile" counts as no). */
function pidsWhere(matches: (pid: string) => boolean): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (matches(entry)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** The pids of every process whose name (comm) is `name`. */
function pidsNamed(name: string): number[] {
  return pidsWhere((pid) => fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === name);
}

/** The pids of a process's children (node:cluster's workers). */
export function childrenOf(parent: number): number[] {
  return pidsWhere((pid) => Number(statFields(pid)?.[1]) === parent);
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
