// Paging and keyword search for list commands: CloudStack's `count` is the total before paging.
import type { ResponseBody } from './command';

export interface ListOptions {
  keyword?: string | undefined;
  page?: number | undefined;
  pagesize?: number | undefined;
}

export function listResponse<T extends { name: string }>(
  objectName: string,
  rows: T[],
  options: ListOptions,
): ResponseBody {
  const keyword = options.keyword?.toLowerCase();
  const matching = keyword ? rows.filter((r) => r.name.toLowerCase().includes(keyword)) : rows;
  const size = options.pagesize ?? matching.length;
  const start = ((options.page ?? 1) - 1) * size;
  return { count: matching.length, [objectName]: matching.slice(start, start + size) };
}
