// A route's hook option (and its method) may be unset, one value or a list; plugins that add
// hooks to routes from an onRoute hook append to it as a list.
export const hookList = <T>(h: T | T[] | undefined): T[] => (h === undefined ? [] : Array.isArray(h) ? h : [h]);
