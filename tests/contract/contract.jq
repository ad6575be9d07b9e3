# jq functions of the metric contract check (check_contract.sh): the PromQL
# queries of Grafana dashboards with their template variables substituted, and
# the vector selectors of a PromQL expression for the diagnosis of an empty
# result. jq 1.6; included with `jq -L tests/contract 'include "contract"; ...'`.

# Grafana's built-in interval variables, as durations for the test's 1 s
# scrape interval: $__rate_interval spans ~10 scrapes, $__range 30 s.
def builtins: {
  "__rate_interval": "10s", "__rate_interval_ms": "10000",
  "__interval": "5s", "__interval_ms": "5000",
  "__range": "30s", "__range_s": "30", "__range_ms": "30000"
};

# The names a template variable reference can take: $name, ${name},
# ${name:format}, [[name]], [[name:format]]. A name starts with a letter or
# underscore, so regex references in strings ("$1") are left alone.
def varref: "\\$\\{(?<a>[A-Za-z_][A-Za-z0-9_]*)(?::[^}]*)?\\}|\\[\\[(?<b>[A-Za-z_][A-Za-z0-9_]*)(?::[^\\]]*)?\\]\\]|\\$(?<c>[A-Za-z_][A-Za-z0-9_]*)";

# The variable names referenced in a string.
def varnames: [match(varref; "g") | .captures[] | select(.string != null) | .string] | unique;

# Substitutes every reference: built-ins by durations, interval-type
# variables by $__rate_interval's duration, every other variable by ".+"
# (the dashboards match every variable with =~). $types: {name: type}.
def subst($types):
  gsub(varref; (.a // .b // .c) as $n
    | if builtins[$n] != null then builtins[$n]
      elif $types[$n] == "interval" then builtins["__rate_interval"]
      else ".+" end);

# A selector with the matcher LABEL!="" added: label_values(SELECTOR, LABEL)
# lists only values of series that have the label.
def withlabel($l):
  if test("\\{\\s*\\}\\s*$") then sub("\\{\\s*\\}\\s*$"; "{\($l)!=\"\"}")
  elif test("\\}\\s*$") then sub("\\}\\s*$"; ", \($l)!=\"\"}")
  else . + "{\($l)!=\"\"}" end;

# Every panel of a dashboard, nested ones included (rows of the old schema,
# collapsed row panels holding their panels).
def allpanels: ([(.panels // [])[], ((.rows // [])[] | (.panels // [])[])] | .[] | recurse((.panels // [])[]));

# One object per PromQL query of a dashboard file's JSON (a dashboard, or
# {"dashboard": ...} as the Grafana API wraps it): panel targets, query
# variables and annotations, each with its expression as written and after
# substitution, and the variables it names that the dashboard lacks.
def queries($file):
  (.dashboard // .) as $d
  | ($d.title // "(untitled)") as $title
  | ([($d.templating.list // [])[] | {key: .name, value: (.type // "query")}] | from_entries) as $types
  | def item($kind; $where; $ref; $expr):
      {file: $file, dashboard: $title, kind: $kind, where: $where, ref: $ref, expr: $expr, legend: "",
       query: ($expr | subst($types)),
       undefined: [$expr | varnames[] | select(builtins[.] == null and $types[.] == null)]};
    ( $d | allpanels | . as $p
      | (.targets // [])[] | select((.expr // "") | test("\\S"))
      # targets of another data source type (Loki, ...) are not PromQL
      | select(((.datasource | objects | .type) // "prometheus") == "prometheus")
      | (.legendFormat // "") as $legend
      | item("panel"; ($p.title // "(untitled panel)"); (.refId // "?"); .expr) + {legend: $legend} ),
    ( ($d.templating.list // [])[] | select(.type == "query") | . as $v
      | (if (.query | type) == "object" then .query.query else .query end) // ""
      | select(test("\\S"))
      # label_values(SELECTOR, LABEL) becomes count by (LABEL) (SELECTOR with
      # LABEL!=""), label_values(LABEL) the same over every series, and
      # query_result(EXPR) EXPR.
      | (if test("^\\s*label_values\\s*\\(") then
           (capture("^\\s*label_values\\s*\\((?<s>.*),\\s*(?<l>[A-Za-z_][A-Za-z0-9_]*)\\s*\\)\\s*$")
            // capture("^\\s*label_values\\s*\\(\\s*(?<l>[A-Za-z_][A-Za-z0-9_]*)\\s*\\)\\s*$")
            | .l as $l
            | if .s then "count by (\($l)) (\(.s | withlabel($l)))" else "count by (\($l)) ({\($l)!=\"\"})" end)
         elif test("^\\s*query_result\\s*\\(") then capture("^\\s*query_result\\s*\\((?<e>.*)\\)\\s*$").e
         elif test("^\\s*(label_names|metrics)\\s*\\(") then empty
         else . end) as $expr
      | item("variable"; ("$" + $v.name); "query"; $expr) ),
    ( ($d.annotations.list // [])[] | select((.expr // "") | test("\\S"))
      | item("annotation"; (.name // "(unnamed)"); "expr"; .expr) );

# The PromQL tokens that matter for finding vector selectors, in order:
# string literals, label lists of by/without/on/ignoring/group_left/
# group_right, [ranges] and [subqueries], a name with {matchers} or bare
# {matchers}, a name (a function or an aggregation when "(" or a by/without
# clause follows), a number or duration.
def tokenre:
  "(?<str>\"(?:\\\\.|[^\"\\\\])*\"|'(?:\\\\.|[^'\\\\])*'|`[^`]*`)"
  + "|(?<clause>\\b(?:by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\))"
  + "|(?<range>\\[[^\\]]*\\])"
  + "|(?<sel>(?<selname>[A-Za-z_:][A-Za-z0-9_:]*)?\\s*\\{(?:[^}\"'`]|\"(?:\\\\.|[^\"\\\\])*\"|'(?:\\\\.|[^'\\\\])*'|`[^`]*`)*\\})"
  + "|(?<name>[A-Za-z_:][A-Za-z0-9_:]*)(?<call>(?=\\s*(?:\\(|(?:by|without)\\s*\\()))?"
  + "|(?<num>[0-9][0-9A-Za-z.]*)";

# Bare words of PromQL that are not metric names.
def keywords: ["by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset",
               "and", "or", "unless", "atan2", "inf", "nan", "start", "end"];

# The vector selectors of an expression, as written (without their range), unique.
def selectors:
  [match(tokenre; "g")
   | [.captures[] | {key: .name, value: .string}] | from_entries
   | if .sel != null then
       if .selname != null and (.selname | ascii_downcase) as $w | keywords | index($w)
       then .sel[(.selname | length):] | sub("^\\s+"; "")
       else .sel end
     elif .name != null and .call == null and ((.name | ascii_downcase) as $w | keywords | index($w) | not)
     then .name
     else empty end]
  | unique;

# A selector's metric name ("" when it has only {matchers}).
def selname: capture("^(?<n>[A-Za-z_:][A-Za-z0-9_:]*)?").n // "";

# A selector's label matchers: [{label, op, value (quoted as written), text}].
def matchers:
  [match("(?<label>[A-Za-z_][A-Za-z0-9_]*)\\s*(?<op>=~|!~|!=|=)\\s*(?<value>\"(?:\\\\.|[^\"\\\\])*\"|'(?:\\\\.|[^'\\\\])*'|`[^`]*`)"; "g")
   | [.captures[] | {key: .name, value: .string}] | from_entries
   | . + {text: "\(.label)\(.op)\(.value)"}];
