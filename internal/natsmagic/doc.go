// Package natsmagic reads the configuration of natsmagic, the prototype
// many users come from, as it is: its environment variables, its JSON
// file format and its nkey-challenge configuration server. It turns them
// into values of the binary's own configuration (internal/config) and a
// NATS server configuration, without natsmagic's flaws:
//
//   - a configuration URL must be https:// (http:// only with
//     NATS_MAGIC_INSECURE=true); requests are bounded by timeouts, a size
//     limit and a few retries; what is fetched is never written to disk;
//   - the config server's challenge: GET {url}/{public key} answers 200
//     with the configuration, or 202 with {"submit_url","nonce"}; the nonce
//     is signed with the NATS_MAGIC_SERVER seed and POSTed as
//     {"signature","nonce"} (base64url, no padding); submit_url must stay
//     on the configured origin; the seed never leaves the process and is
//     never part of a URL, an error or a log line (natsmagic put an invalid
//     seed into the URL);
//   - remote_users become leafnode credential files written 0600 in a
//     private directory, removed by [Creds.Remove];
//   - DNS credentials (letsencrypt_dns_auth) go to the provider's settings,
//     never into the environment (natsmagic exported them);
//   - an unknown provider or an unknown JSON field is an error (natsmagic
//     fell back to digitalocean and ignored unknown fields).
//
// # Sources
//
// As in natsmagic, the environment comes first, then the document at
// NATS_MAGIC_URL, then the file at NATS_MAGIC_FILE; fields present in a
// later source replace the earlier ones.
//
//	NATS_MAGIC_DOMAINS             default names of every listener
//	NATS_MAGIC_STANDARD_DOMAINS    client listener (and HTTPS monitoring)
//	NATS_MAGIC_LEAFNODE_DOMAINS, _WEBSOCKET_DOMAINS, _MQTT_DOMAINS, _MONITORING_DOMAINS
//	NATS_MAGIC_EMAIL, NATS_MAGIC_CA (default Let's Encrypt production)
//	NATS_MAGIC_PROVIDER            digitalocean, azure, route53, or any provider name
//	NATS_MAGIC_FILE, NATS_MAGIC_URL, NATS_MAGIC_SERVER (nkey seed), NATS_MAGIC_INSECURE
//	NATS_LOGGING_PRESET            development (text log) or production (JSON lines)
//
// natsmagic agreed to the CA's terms implicitly; so does this package when
// natsmagic's configuration is used.
package natsmagic
