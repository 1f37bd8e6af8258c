// A test env's traffic as the shared ALB counts it: `AWS/ApplicationELB` RequestCount of the env's
// own target group. The one activity signal of the aws target.
import {
  CloudWatchClient,
  GetMetricDataCommand,
  type GetMetricDataCommandOutput,
} from "@aws-sdk/client-cloudwatch";

export interface TargetGroupRef {
  /** `app/<name>/<id>`, the ALB's ARN suffix. */
  loadBalancerArnSuffix: string;
  /** `targetgroup/<name>/<id>`, the env's target group's ARN suffix. */
  targetGroupArnSuffix: string;
}

export interface RequestCountPoint {
  /** Start of the period. */
  at: Date;
  count: number;
}

export interface CloudWatchPortOptions {
  /** Default: a client from the environment (AWS_REGION, AWS_ENDPOINT_URL, credentials chain). */
  client?: CloudWatchClient;
  region?: string;
  /** Seconds per datapoint (default 300: ALB metrics are per minute, idleness is counted in hours). */
  periodSeconds?: number;
}

export class AlbRequestMetrics {
  private readonly client: CloudWatchClient;
  private readonly periodSeconds: number;

  constructor(opts: CloudWatchPortOptions = {}) {
    this.client = opts.client ?? new CloudWatchClient(opts.region ? { region: opts.region } : {});
    this.periodSeconds = opts.periodSeconds ?? 300;
  }

  /**
   * RequestCount per period from `since` to `until`, oldest first, every period present: CloudWatch
   * leaves out periods without requests, and a missing datapoint means 0 requests, not "unknown".
   */
  async requestCounts(ref: TargetGroupRef, since: Date, until: Date): Promise<RequestCountPoint[]> {
    const periodMs = this.periodSeconds * 1000;
    const start = new Date(Math.floor(since.getTime() / periodMs) * periodMs);
    const end = new Date(Math.ceil(until.getTime() / periodMs) * periodMs);
    if (end <= start) return [];
    const seen = await this.sums(ref, start, end);
    const points: RequestCountPoint[] = [];
    for (let t = start.getTime(); t < end.getTime(); t += periodMs)
      points.push({ at: new Date(t), count: seen.get(t) ?? 0 });
    return points;
  }

  /** The end of the latest period with a request since `since`, or undefined for none. */
  async lastRequestAt(ref: TargetGroupRef, since: Date, until: Date): Promise<Date | undefined> {
    const points = await this.requestCounts(ref, since, until);
    const last = points.findLast((p) => p.count > 0);
    if (!last) return undefined;
    const end = last.at.getTime() + this.periodSeconds * 1000;
    return new Date(Math.min(end, until.getTime()));
  }

  private async sums(ref: TargetGroupRef, start: Date, end: Date): Promise<Map<number, number>> {
    const sums = new Map<number, number>();
    let nextToken: string | undefined;
    do {
      const res: GetMetricDataCommandOutput = await this.client.send(
        new GetMetricDataCommand({
          StartTime: start,
          EndTime: end,
          ScanBy: "TimestampAscending",
          NextToken: nextToken,
          MetricDataQueries: [
            {
              Id: "requests",
              ReturnData: true,
              MetricStat: {
                Stat: "Sum",
                Period: this.periodSeconds,
                Metric: {
                  Namespace: "AWS/ApplicationELB",
                  MetricName: "RequestCount",
                  // Per target group, RequestCount is published with both dimensions together.
                  Dimensions: [
                    { Name: "TargetGroup", Value: ref.targetGroupArnSuffix },
                    { Name: "LoadBalancer", Value: ref.loadBalancerArnSuffix },
                  ],
                },
              },
            },
          ],
        }),
      );
      for (const r of res.MetricDataResults ?? []) {
        r.Timestamps?.forEach((ts, i) => {
          const t = ts.getTime();
          sums.set(t, (sums.get(t) ?? 0) + (r.Values?.[i] ?? 0));
        });
      }
      nextToken = res.NextToken;
    } while (nextToken);
    return sums;
  }
}
