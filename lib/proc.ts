// /proc/<pid>/stat read the one safe way: the command name in parentheses may hold spaces and ")",
// so the fields are counted from after its last ")".

/** The fields after the command name: [0] state, [1] ppid, [2] pgrp, [3] session, … [11] utime, [12] stime. */
export function procStatFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}
