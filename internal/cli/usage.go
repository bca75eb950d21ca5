package cli

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// ownFlagPrefix starts the name of every flag of nats-autotls's own.
const ownFlagPrefix = "autotls_"

// Usage writes the -h text: nats-server's options, which nats-autotls
// takes unchanged, what it does with TLS, and its own -autotls_* flags
// (those of fs whose name starts with "autotls_").
func Usage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprint(w, serverUsage)
	fmt.Fprint(w, managedTLSUsage)
	fmt.Fprint(w, "\nnats-autotls Options:\n")
	fs.VisitAll(func(f *flag.Flag) {
		if !strings.HasPrefix(f.Name, ownFlagPrefix) {
			return
		}
		name, usage := flag.UnquoteUsage(f)
		line := "    -" + f.Name
		if name != "" {
			line += " <" + name + ">"
		}
		fmt.Fprintln(w, line)
		fmt.Fprintf(w, "        %s", strings.ReplaceAll(usage, "\n", "\n        "))
		if f.DefValue != "" && f.DefValue != "false" {
			fmt.Fprintf(w, " (default: %s)", f.DefValue)
		}
		fmt.Fprintln(w)
	})
	fmt.Fprint(w, logUsage)
}

// TLSHelp writes the --help_tls text: what nats-autotls does with each tls
// block of a nats-server configuration file.
func TLSHelp(w io.Writer) {
	fmt.Fprint(w, tlsHelp)
}

// serverUsage is nats-server's own usage text with the program name
// changed; nats-autotls parses these options with nats-server's parser.
const serverUsage = `
Usage: nats-autotls [options]

nats-autotls is nats-server with managed TLS: it takes every nats-server
option and configuration file, and serves the listeners they enable with
certificates it obtains and renews itself.

Server Options:
    -a, --addr, --net <host>         Bind to host address (default: 0.0.0.0)
    -p, --port <port>                Use port for clients (default: 4222)
    -n, --name
        --server_name <server_name>  Server name (default: auto)
    -P, --pid <file>                 File to store PID
    -m, --http_port <port>           Use port for http monitoring
    -ms,--https_port <port>          Use port for https monitoring (managed TLS)
    -c, --config <file>              Configuration file
    -t                               Test configuration (nats-server's and
                                     nats-autotls's) and exit; nothing listens,
                                     no certificate is ordered or written
    -sl,--signal <signal>[=<pid>]    Send signal to nats-autotls process (ldm, stop, quit, term, reopen, reload)
                                     <pid> can be either a PID (e.g. 1) or the path to a PID file (e.g. /var/run/nats-autotls.pid)
        --client_advertise <string>  Client URL to advertise to other servers
        --ports_file_dir <dir>       Creates a ports file in the specified directory (<executable_name>_<pid>.ports).

Logging Options (the certificate manager logs with the server, in the same format):
    -l, --log <file>                 File to redirect log output
    -T, --logtime                    Timestamp log entries (default: true)
        --logtime_utc                Timestamps in UTC instead of local timezone (default: false)
    -s, --syslog                     Log to syslog or windows event log
    -r, --remote_syslog <addr>       Syslog server addr (udp://localhost:514)
    -D, --debug                      Enable debugging output
    -V, --trace                      Trace the raw protocol
    -VV                              Verbose trace (traces system account as well)
    -DV                              Debug and trace
    -DVV                             Debug and verbose trace (traces system account as well)
        --log_size_limit <limit>     Logfile size limit (default: auto)
        --max_traced_msg_len <len>   Maximum printable length for traced messages (default: unlimited)

JetStream Options:
    -js, --jetstream                 Enable JetStream functionality
    -sd, --store_dir <dir>           Set the storage directory

Authorization Options:
        --user <user>                User required for connections
        --pass <password>            Password required for connections
        --auth <token>               Authorization token required for connections

TLS Options (see --help_tls):
        --tls                        Enable TLS, do not verify clients (default: false)
        --tlscert <file>             Server certificate file
        --tlskey <file>              Private key for server certificate
        --tlsverify                  Enable TLS, verify client certificates
        --tlscacert <file>           Client certificate CA for verification

Cluster Options:
        --routes <rurl-1, rurl-2>    Routes to solicit and connect
        --cluster <cluster-url>      Cluster URL for solicited routes
        --cluster_name <string>      Cluster Name, if not set one will be dynamically generated
        --no_advertise <bool>        Do not advertise known cluster information to clients
        --cluster_advertise <string> Cluster URL to advertise to other servers
        --connect_retries <number>   For implicit routes, number of connect retries
        --cluster_listen <url>       Cluster url from which members can solicit routes

Profiling Options:
        --profile <port>             Profiling HTTP port

Common Options:
    -h, --help                       Show this message
    -v, --version                    Show the nats-autotls and nats-server versions
        --help_tls                   What nats-autotls does with tls {}
`

// managedTLSUsage says in short what --help_tls says in full.
const managedTLSUsage = `
Managed TLS:
    Every listener the configuration enables (client, HTTPS monitoring,
    websocket, MQTT, leafnode, cluster, gateway) and every leafnode and
    gateway remote is served with a certificate that nats-autotls obtains
    and renews before expiry, without a restart and without dropping
    connections. The TLS policy written in a tls {} block (verify, ca_file,
    min_version, cipher_suites, ...) keeps its nats-server meaning; only the
    source of the certificate changes. See --help_tls.
`

// logUsage documents the log option of nats-autotls's own.
const logUsage = `
Logs:
    The certificate manager's lines go where nats-server's go (-l, -s, -r or
    standard error), at the levels -D, -V and -DV select, in nats-server's
    format. With -autotls_log_json both write one JSON object per line with
    the keys "time", "level" and "msg" (and the manager's fields). SIGUSR1
    (--signal reopen) reopens the log file for both.
`

const tlsHelp = `
nats-autotls serves every TLS listener with managed certificates.

A tls {} block in the configuration file, or --tls on the command line,
is not needed: each listener the configuration enables gets TLS:

    client (port), HTTPS monitoring (https_port), websocket, mqtt,
    leafnodes (accept and remotes), cluster (routes), gateway (and remotes)

Where the certificates come from:

    -autotls_acme URL        Public listeners (client, HTTPS monitoring,
                             websocket, MQTT, leafnode accept) from an ACME
                             CA such as Let's Encrypt (http-01, or dns-01
                             with -autotls_dns_provider or -autotls_dns_hook).
    (default)                Everything from a private CA kept in
                             -autotls_storage; clients trust its bundle,
                             written to <storage>/ca-bundle.pem.
    -autotls_ca_cert/_key    The private CA shared by the nodes of a cluster.

Routes, gateways and leafnode remotes use mutual TLS, which public CAs no
longer issue certificates for: they always use the private CA.

What a tls {} block keeps meaning (as in nats-server):

    verify, verify_and_map   Clients must present a certificate (mapped to a
                             user with verify_and_map).
    ca_file                  The roots that verify client certificates; on a
                             leafnode remote, the roots that verify the hub.
    min_version, cipher_suites, curve_preferences, timeout,
    handshake_first, pinned_certs, cert_match*
                             Unchanged nats-server meaning.
    cert_file, key_file      That listener serves those files and is not
                             managed (move to managed TLS one listener at a
                             time).

A setting nats-autotls cannot honour is refused at start (and by -t) with
the file, line, setting and fix; nothing is silently dropped. For example
insecure: true is refused on a managed listener.

Example:

    port: 4222
    tls {
        verify:      true          # clients need a certificate...
        ca_file:     "clients.pem" # ...issued by this CA
        min_version: "1.3"
    }
    cluster { port: 6222, routes: ["nats-route://nats-2.example.net:6222"] }
    # the cluster's nodes share names that cover every route URL
    # (the private CA signs routes, so a wildcard needs no dns-01):
    autotls { roles { cluster { names: ["*.example.net"] } } }

    nats-autotls -c nats.conf -autotls_names nats-1.example.net \
        -autotls_acme letsencrypt -autotls_agree_tos -autotls_email ops@example.net
`
