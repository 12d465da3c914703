export { BufferedWriter, writeFully } from './buffered-writer.js';
export { eachLine, LineReader } from './line-reader.js';
export {
  holderAlive,
  LockFile,
  type LockHolder,
  parseLockHolder,
  readLockHolder,
  selfHolderText,
} from './lock-file.js';
export { type ProcStat, procStat } from './proc-stat.js';
export { progressBar } from './progress-bar.js';
export { readRange } from './read-range.js';
