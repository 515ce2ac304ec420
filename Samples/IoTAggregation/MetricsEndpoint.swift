import Metrics
import Prometheus

/// Wires the sample's observability: Prometheus as the swift-metrics backend (the sample
/// chooses it; the Sluice library never bootstraps one) and an HTTP server for
/// `GET /metrics` and `GET /health`.
enum MetricsEndpoint {
    /// Bootstraps Prometheus, starts serving on `host:port` and prints the address as
    /// `metrics=http://HOST:PORT/metrics` on standard output.
    @discardableResult
    static func start(host: String, port: Int, health: HealthCheck) throws -> MetricsServer {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let server = try MetricsServer(host: host, port: port) { request in
            switch request.path {
            case "/metrics":
                MetricsServer.Response(
                    status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: registry.emitToBuffer())
            case "/health":
                health.response()
            default:
                .text("not found: try /metrics or /health\n", status: 404)
            }
        }
        server.start()
        Console.line("metrics=http://\(host):\(server.port)/metrics")
        return server
    }
}
