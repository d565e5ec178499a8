// The interval lives below analysis (src/stats), so `arena eval` can use it too; mining keeps its old path.
export { wilson, Z95 } from '../../stats/wilson.js';
