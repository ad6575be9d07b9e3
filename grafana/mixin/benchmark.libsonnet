// Benchmark: the live /metrics of a running `tierscope bench` (scenario key
// `listen`): streams, TTFT and ITL, tokens/s, outcomes, the current step.
local dashboard = import 'dashboard.libsonnet';
local p = import 'panels.libsonnet';
local q = import 'promql.libsonnet';

function(config)
  local ttft = 'tierscope_bench_ttft_seconds';
  local itl = 'tierscope_bench_inter_token_latency_seconds';
  local req = 'tierscope_bench_requests_total';
  local quantiles(h) = [
    p.target('histogram_quantile(%s, sum by (job, instance, le) (rate(%s[$__rate_interval])))' % [x[0], q.bucket(h)], '{{instance}} %s' % x[1])
    for x in [['0.5', 'p50'], ['0.9', 'p90'], ['0.95', 'p95'], ['0.99', 'p99']]
  ] + [p.target('sum by (job, instance) (rate(%s[$__rate_interval])) / sum by (job, instance) (rate(%s[$__rate_interval]))' % [q.histSum(h), q.histCount(h)], '{{instance}} mean')];
  local heat(h) = p.heatmapTarget('sum by (le) (increase(%s[$__rate_interval]))' % q.bucket(h));
  dashboard.new(
    'tierscope / Benchmark',
    'tierscope-benchmark',
    'A running tierscope bench, from its live /metrics: streams in flight, time to first token and inter-token latency, output tokens per second, request outcomes, the current step.',
    dashboard.jobInstanceVariables(config.benchSelector, 'tierscope_bench_active_streams'),
    [
      [p.text('How to read this dashboard', |||
        Scrape a bench run's `listen` address as its own job. **TTFT** is the client-side time from sending a request to the first chunk of generated text; **ITL** the gaps between text chunks. Heatmaps show how many requests (gaps) fell in each latency bucket per interval; the quantiles are estimated from the same histogram buckets (so they are only as fine as the buckets). **Outcomes** other than *ok* are failures (HTTP errors, context overflow, OOM, timeouts, dropped connections, truncated or malformed streams). The step panels show the context length and the users of the step that is running.
      |||, h=4)],
      [
        p.stat('Active streams', ['tierscope_bench_active_streams'], [p.target(q.s('tierscope_bench_active_streams'), '{{instance}}')], 'none', decimals=0),
        p.stat('Output tokens/s',
               ['tierscope_bench_output_tokens_per_second'],
               [p.target(q.s('tierscope_bench_output_tokens_per_second'), '{{instance}}')],
               'suffix: tokens/s'),
        p.stat('Step context',
               ['tierscope_bench_step_context_tokens'],
               [p.target(q.s('tierscope_bench_step_context_tokens'), '{{instance}}')],
               'suffix: tokens',
               graph=false,
               decimals=0),
        p.stat('Step users',
               ['tierscope_bench_step_users'],
               [p.target(q.s('tierscope_bench_step_users'), '{{instance}}')],
               'suffix: users',
               graph=false,
               decimals=0),
        p.stat('Requests completed',
               [req],
               [p.target('sum by (job, instance) (%s)' % q.s(req), '{{instance}}')],
               'none',
               note='All outcomes since the bench started, warm-up included.',
               decimals=0),
        p.stat('Requests failed',
               [req],
               [p.target('sum by (job, instance) (%s)' % q.s(req, 'outcome!="ok"'), '{{instance}}')],
               'none',
               note='Outcomes other than ok since the bench started.',
               steps=[[1, 'red']],
               decimals=0),
      ],
      [
        p.heatmap('TTFT distribution', [ttft], [heat(ttft)], 's', note='Requests per TTFT bucket within each rate interval.'),
        p.timeseries('TTFT quantiles', [ttft], quantiles(ttft), 's', w=12, note='p50, p90, p95, p99 estimated from the histogram buckets over the rate interval; mean = sum / count.', min=0),
      ],
      [
        p.heatmap('Inter-token latency distribution', [itl], [heat(itl)], 's', note='Gaps per ITL bucket within each rate interval.'),
        p.timeseries('Inter-token latency quantiles', [itl], quantiles(itl), 's', w=12, note='p50, p90, p95, p99 estimated from the histogram buckets over the rate interval; mean = sum / count.', min=0),
      ],
      [
        p.timeseries('Active streams',
                     ['tierscope_bench_active_streams'],
                     [p.target(q.s('tierscope_bench_active_streams'), '{{instance}}')],
                     'none',
                     w=6,
                     min=0),
        p.timeseries('Output tokens per second',
                     ['tierscope_bench_output_tokens_per_second'],
                     [p.target(q.s('tierscope_bench_output_tokens_per_second'), '{{instance}}')],
                     'suffix: tokens/s',
                     w=6,
                     min=0),
        p.timeseries('Request outcomes',
                     [req],
                     [p.target('sum by (job, instance, outcome) (%s)' % q.increase(req), '{{instance}} {{outcome}}')],
                     'none',
                     w=12,
                     note='Requests completed within each rate interval, by outcome.',
                     min=0),
      ],
      [
        p.timeseries('Step context',
                     ['tierscope_bench_step_context_tokens'],
                     [p.target(q.s('tierscope_bench_step_context_tokens'), '{{instance}}')],
                     'suffix: tokens',
                     w=12,
                     min=0),
        p.timeseries('Step users',
                     ['tierscope_bench_step_users'],
                     [p.target(q.s('tierscope_bench_step_users'), '{{instance}}')],
                     'suffix: users',
                     w=12,
                     min=0),
      ],
    ],
  )
