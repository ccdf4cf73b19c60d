// The usage text of each `sluice` command, apart from the commands' code, so that `sluice help`
// and the broker command start without loading the node's modules.

export const nodeUsage = `  node                  Run a Sluice node: the HTTP write API (InfluxDB/CnosDB compatible) and the schema registry
    --kafka <host:port,...>        Kafka bootstrap servers (env KAFKA_BROKERS; default 127.0.0.1:9092)
    --redis <url>|memory           Redis for databases, field types, Idempotency-Key (env REDIS_URL; default redis://127.0.0.1:6379)
    --http-host <addr>             listen address (default 127.0.0.1)
    --http-port <n>                HTTP port, 0 picks a free one (default 8086)
    --data-dir <dir>               node data: tokens.json, replica/ segments (default ./data/node-1)
    --node-id <id>                 unique node name, used in Kafka transactional ids (default node-1)
    --partitions <n>               partitions of sluice.ingest if this node creates it (default 8)
    --auth                         require a token on every request (env SLUICE_AUTH=true)
    --tokens-file <path>           token file (default <data-dir>/tokens.json; manage with \`sluice token\`)
    --default-tenant <name>        tenant of requests that name none, with auth off (default "default")
    --no-auto-create-databases     answer 404 for unknown databases instead of creating them
    --producers <n>                concurrent Kafka transactions of the write path (default 1)
    --parse-workers <n>            threads that parse and encode write bodies, 0 = none (default: one per core but one, at least 1)
    --query-workers <n>            threads that scan partitions for decode-heavy aggregates, 0 = none (default 0)
    --parallel-scan-min-points <n> estimated points to decode from which a query uses them (default 2000000)
    --compression <lz4|gzip|none>  record batch compression in sluice.ingest (default lz4)
    --no-kafka-source              do not run the Kafka source (which re-keys raw records outside producers write to sluice.ingest)
    --no-processor                 do not run the master processor (sluice.ingest → sluice.changelog) in this node
    --master-thread                run the master in its own worker thread (for a machine with cores to spare)
    --no-local-feed                the replica fetches its own master's changelog back from Kafka (docs/replicaset.md#the-local-feed)
    --master-session-timeout-ms <n>  how long a crashed master holds its partitions (default 10000; docs/replicaset.md)
    --no-replica                   do not apply sluice.changelog to segments in this node (no checksum, no read-your-writes)
    --replica-flush-interval-ms <n>  flush each replica partition at least this often (default 5000)
    --heartbeat-interval-ms <n>    replica-set heartbeat in Redis; a member expires after 5 missed beats (default 1000)
    --cdc                          also write the change feed sluice.changelog → sluice.cdc, exactly once (docs/cdc.md)
    --cdc-heartbeat-ms <n>         heartbeat comment period of idle /api/v1/changes streams (default 15000)
    --lossy-compression <file>     JSON lossy-compression settings ({"databases": {...}}, see docs/lossy-compression.md)
    --kafka-source-database <db>   database of raw text records without a sluice-database header
    --limit <name=value>           an HTTP limit, repeatable (see docs/http-api.md)
    --mqtt-bridge <file>           also run the MQTT bridge with this config (JSON, docs/mqtt.md)
    --otlp-endpoint <url>          export traces and metrics over OTLP/HTTP (env OTEL_EXPORTER_OTLP_ENDPOINT; docs/observability.md)
    --v8-flags="<flags>"           V8 flags set at start (env SLUICE_V8_FLAGS; default --interrupt-budget=270336; "" for none; docs/operations.md)
    --config-file <path>           JSON file with any of the settings above (camelCase names)
`

export const mqttBridgeUsage = `  mqtt-bridge           Subscribe to an MQTT broker and land the points in sluice.ingest (docs/mqtt.md)
    --config <file>                the bridge config: subscriptions, topic templates, payload formats (JSON; required)
    --mqtt <url>                   the MQTT broker (default: the config's "mqtt", else mqtt://127.0.0.1:1883)
    --kafka <host:port,...>        Kafka bootstrap servers (env KAFKA_BROKERS; default 127.0.0.1:9092)
    --redis <url>|memory           control store for databases and field types (env REDIS_URL; default redis://127.0.0.1:6379)
    --partitions <n>               partitions of sluice.ingest if the bridge creates it (default 8)
    --no-auto-create-databases     dead-letter points for unknown databases instead of creating them
`

export const tokenUsage = `  token create          Create an API token; prints its secret (shown once)
    --tenant <name>                the tenant it belongs to (required)
    --databases <a,b|*>            databases of the tenant it covers (default *)
    --permissions <read,write>     what it may do (default read,write)
    --description <text>           a note for \`token list\`
    --id <id>                      its id (default: random)
    --data-dir <dir> | --tokens-file <path>   which file (default ./data/node-1/tokens.json)
  token list            List tokens (never their secrets)
  token revoke <id>     Remove a token; running nodes notice within a second
`

export const opsUsage = `  doctor [node options]  Check what a node needs (configuration, disk, Kafka and its topics, Redis, clock skew, the
                        replica set), each with a verdict and what to do; exits 1 when a check fails (--json too)
  compact               Merge every partition's segments on a running node (docs/operations.md)
    --node <url>                   the node (default http://127.0.0.1:8086)
    --cluster-secret <secret>      with --auth nodes (env SLUICE_CLUSTER_SECRET)
  backup                Copy a running node's segment stores into a directory, consistently, partition by partition
    --node <url>                   the node (default http://127.0.0.1:8086)
    --out <dir>                    a new or empty directory (required)
    --cluster-secret <secret>      with --auth nodes (env SLUICE_CLUSTER_SECRET)
  restore               Put a backup in place of a stopped node's stores; at start it replays the changelog from there
    --from <dir>                   the backup (required)
    --data-dir <dir>               the stopped node's data directory (required)
`

export const statusUsage = `  status                Show the replica set: live members, health, master per partition, lag
    --redis <url>                  Redis of the set (env REDIS_URL; default redis://127.0.0.1:6379)
    --json                         print {members, masters} as JSON
`

export const sqlUsage = `  sql "<statement>"     Run one SQL statement on a node and print the answer (docs/query.md); exits 1 with the node's message on an error
    --node <url>                   the node (default http://127.0.0.1:8086)
    --db <name>                    the database (default public)
    --tenant <name>                the tenant (default: the node's default tenant)
    --format <table|csv|json>      an aligned table (default), CSV or the JSON rows
    --token <secret>               with --auth nodes (env SLUICE_TOKEN)
`
