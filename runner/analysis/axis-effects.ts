import { AXES, type AxisAnalysis, type AxisImportance, type AxisName, type CellAxes } from '../records/summary.ts';
import { ciOf, mean } from './stats.ts';

export interface AxisCell {
  axes: CellAxes;
  value: number;
}

const key = (v: unknown) => JSON.stringify(v);

/**
 * Per remedy axis: how each of its values moves the metric against the axis' first value
 * (paired within the grid, so the other remedies are held fixed), and how much of the variation
 * across cells the axis explains on its own. `order` lists each axis' values in grid order.
 */
export function axisEffects(cells: readonly AxisCell[], order: Record<AxisName, readonly unknown[]>): AxisAnalysis {
  const finite = cells.filter((c) => Number.isFinite(c.value));
  const grand = mean(finite.map((c) => c.value));
  const total = mean(finite.map((c) => (c.value - grand) ** 2));
  const axes: AxisImportance[] = [];
  for (const axis of AXES) {
    const values = order[axis].map(key);
    if (values.length < 2) continue;
    // cells equal in the other three axes, by this axis' value; ambiguous groups (cells an
    // `include` added with another model) are left out of the pairing
    const rest = (c: AxisCell) => key(AXES.filter((a) => a !== axis).map((a) => c.axes[a]));
    const groups = new Map<string, Map<string, number[]>>();
    for (const c of finite) {
      const g = groups.get(rest(c)) ?? new Map<string, number[]>();
      const k = key(c.axes[axis]);
      g.set(k, [...(g.get(k) ?? []), c.value]);
      groups.set(rest(c), g);
    }
    let explained = 0;
    const effects = values.map((value) => {
      const diffs: number[] = [];
      for (const g of groups.values()) {
        const here = g.get(value), base = g.get(values[0]);
        if (here?.length === 1 && base?.length === 1) diffs.push(here[0] - base[0]);
      }
      const members = finite.filter((c) => key(c.axes[axis]) === value).map((c) => c.value);
      const m = mean(members);
      if (members.length) explained += (members.length / finite.length) * (m - grand) ** 2;
      return { value, effect: ciOf(diffs), mean: m, cells: members.length };
    });
    axes.push({ axis, share: total > 0 ? explained / total : 0, values: effects });
  }
  axes.sort((a, b) => b.share - a.share);
  const main = axes.reduce((s, a) => s + a.share, 0);
  return { axes, interactions: total > 0 ? Math.max(0, 1 - main) : 0, cells: finite.length };
}
