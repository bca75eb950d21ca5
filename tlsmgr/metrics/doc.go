// Package metrics exports a [tlsmgr.Manager]'s certificates as Prometheus
// metrics. It registers nothing globally: the caller creates a [Collector]
// and registers it on its own registry, as client_golang's collectors
// package does.
//
// # Usage
//
// The Collector reads one snapshot ([tlsmgr.Manager.Status]) per scrape for
// the gauges, and counts orders, renewals and failures from the Manager's
// events, so create it first and hand its Observe method to the Manager:
//
//	col := metrics.New(metrics.Config{})
//	m, err := tlsmgr.New(tlsmgr.Config{
//		OnEvent: col.Observe,
//		Storage: col.Storage(tlsmgr.NewFileStorage(dir)), // optional: lock waits
//	})
//	...
//	col.SetSource(m)
//	reg := prometheus.NewRegistry()
//	reg.MustRegister(col)
//	http.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
//
// # Metrics
//
// Per certificate, labelled roles (comma-separated), name (the first name
// of the certificate) and issuer (the issuer's IssuerKey):
//
//	nats_autotls_certificate_expiration_timestamp_seconds      NotAfter
//	nats_autotls_certificate_not_before_timestamp_seconds      NotBefore
//	nats_autotls_certificate_renewal_timestamp_seconds         next planned renewal
//	nats_autotls_certificate_ari_window_start_timestamp_seconds the issuer's ARI window
//	nats_autotls_certificate_ari_window_end_timestamp_seconds
//	nats_autotls_certificate_last_success_timestamp_seconds    when the served certificate was obtained
//	nats_autotls_certificate_consecutive_failures              failed attempts since the last success
//	nats_autotls_certificate_served                            1 if a certificate is served, else 0
//	nats_autotls_certificate_issued_by_info{issued_by}         1, labelled with the issuer of the served certificate (a fallback chain's member)
//	nats_autotls_orders_total                                  orders started
//	nats_autotls_renewals_total                                certificates renewed
//	nats_autotls_failures_total{reason}                        failed attempts, by [FailureReason]
//	nats_autotls_rejected_total                                certificates refused by validation
//	nats_autotls_rate_limit_waits_total                        failures that made the Manager wait for the CA's Retry-After
//	nats_autotls_order_duration_seconds{issuer,result}         histogram: order start to certificate served, or to failure
//
// Per listener (with [Config.Listeners]), labelled listener:
//
//	nats_autotls_listener_expiration_timestamp_seconds         NotAfter of the certificate the listener serves
//
// For the private CA (when the source has a CACertificate method, as
// *tlsmgr.Manager has), labelled subject:
//
//	nats_autotls_private_ca_expiration_timestamp_seconds
//
// Fed by [Collector.Storage] and [Collector.ObserveRotation]:
//
//	nats_autotls_lock_wait_seconds                             histogram: time Storage.Lock took to acquire
//	nats_autotls_lock_waits_total                              acquisitions that waited longer than Config.LockWaitThreshold
//	nats_autotls_lock_failures_total                           Lock calls that failed
//	nats_autotls_rotation_duration_seconds{roles}              histogram: certificate installed to served by an external server
//
// The expiration metric has the shape of cert-manager's
// certmanager_certificate_expiration_timestamp_seconds, so alerts written
// for it carry over: time() > nats_autotls_certificate_expiration_timestamp_seconds - 7*86400.
package metrics
