// Every workflow type the worker runs, one file each.
export { addHost } from './add-host';
