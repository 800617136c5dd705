// ECharts for the dashboard, only the parts it draws: bar and line charts
// on a grid with tooltips and a legend, on canvas. Importing echarts/core
// and these modules (not the whole "echarts" package) keeps the chunk
// small; only the dashboard's route imports this, so no other page loads it.
import { init, use, type ComposeOption, type ECElementEvent, type EChartsType } from "echarts/core";
import { BarChart, LineChart, type BarSeriesOption, type LineSeriesOption } from "echarts/charts";
import {
  GridComponent, LegendComponent, TooltipComponent,
  type GridComponentOption, type LegendComponentOption, type TooltipComponentOption,
} from "echarts/components";
import { CanvasRenderer } from "echarts/renderers";

use([BarChart, LineChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

/** ChartOption is the option of a chart made of the registered parts. */
export type ChartOption = ComposeOption<
  BarSeriesOption | LineSeriesOption | GridComponentOption | LegendComponentOption | TooltipComponentOption
>;

export { init, type ECElementEvent, type EChartsType };
