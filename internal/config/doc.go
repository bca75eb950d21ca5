// Package config turns every source of the reference binary's autotls
// configuration into one plain [Config]: the autotls block of nats.conf,
// NATS_AUTOTLS_* environment variables and -autotls_* flags, in that order
// of precedence over the defaults.
//
// # The autotls block
//
// The block is read with nats-server's own parser, from the same file as
// the rest of the configuration, so includes, variables and $ENV
// references work and every error names the file and line:
//
//	autotls {
//	  names: [nats.example.com, "*.nats.example.com"]
//	  storage: /var/lib/nats-autotls
//	  acme {
//	    directory: letsencrypt
//	    email: ops@example.com
//	    agree_tos: true
//	    eab { kid: "kid-1", hmac_key_file: /run/secrets/eab }
//	  }
//	  dns {
//	    provider: cloudflare
//	    settings { api_token_file: /run/secrets/cloudflare }
//	  }
//	  roles { websocket { names: [ws.example.com] } }
//	}
//
// # Sources and precedence
//
// [Load] layers: defaults < the chosen DNS provider's own variables (lego's
// names, such as CLOUDFLARE_DNS_API_TOKEN and _FILE) < the file < the
// environment < the flags. Every setting has one key in the block
// ("acme.email"), one variable (NATS_AUTOTLS_ACME_EMAIL) and usually one
// flag (-autotls_email); [Config.Sources] records which source won. A
// NATS_AUTOTLS_* variable that names no setting is an error, as is an
// unknown key in the block.
//
// # Secrets
//
// Every secret (the EAB HMAC key, the DNS provider's credentials) can come
// from a file: a key_file field, a NAME_FILE variable, or, on the command
// line, only as a file (-autotls_eab_hmac_key_file, -autotls_dns_setting
// KEY_file=PATH). One trailing newline is trimmed. Secret values never
// appear in an error.
//
// # Names
//
// With no names in any source, the names are derived from the listeners:
// the advertised client, websocket, leafnode, cluster and gateway
// addresses, and server_name, where they are DNS names with a dot.
//
// # nats-server's strictness
//
// nats-server rejects unknown top-level fields, autotls included, unless
// server.NoErrOnUnknownFields(true) is set. The binary sets it, and Load
// processes the file once more with the check on, ignoring only the
// autotls block, so that a misspelt nats-server field is still an error.
// Load is therefore for the binary only, one call at a time.
package config
