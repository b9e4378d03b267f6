//! Health, metrics and the bare baseline route.

use crate::helpers::TestApp;

#[actix_web::test]
async fn healthz_reports_the_database_and_the_worker() {
    let app = TestApp::spawn().await;
    let client = app.client();
    let page = client.get("/healthz").await;
    assert_eq!(page.status, 503, "no worker round yet: {}", page.body);
    let json: serde_json::Value = serde_json::from_str(&page.body).unwrap();
    assert_eq!(json["database"], "ok");
    assert_eq!(json["worker"]["alive"], false);
    app.run_worker().await;
    let page = client.get("/healthz").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let json: serde_json::Value = serde_json::from_str(&page.body).unwrap();
    assert_eq!(json["status"], "ok");
    assert_eq!(json["worker"]["alive"], true);
    // A worker silent for five minutes is reported.
    app.clock.advance(chrono::Duration::minutes(5));
    assert_eq!(client.get("/healthz").await.status, 503);
}

#[actix_web::test]
async fn metrics_count_requests_by_route_pattern_never_by_raw_path() {
    let app = TestApp::spawn().await;
    let client = app.client();
    client.get("/ping").await;
    client.get("/login").await;
    client.get("/users/12345").await;
    client.get("/lang/en?next=/secret-token-abc").await;
    let page = client.get("/metrics").await;
    assert_eq!(page.status, 200);
    let text = page.body;
    assert!(text.contains("paylink_http_requests_total{route=\"/ping\",method=\"GET\",status=\"200\"} 1"), "{text}");
    assert!(text.contains("route=\"/users/{id}\""), "{text}");
    assert!(!text.contains("12345") && !text.contains("secret-token"), "no ids or tokens in labels");
    assert!(text.contains("paylink_http_request_duration_seconds_bucket"));
    assert!(text.contains("paylink_outbox_backlog 0"), "{text}");
}

#[actix_web::test]
async fn the_baseline_route_answers_ok() {
    let app = TestApp::spawn().await;
    let page = app.client().get("/ping").await;
    assert_eq!((page.status, page.body.as_str()), (200, "ok"));
}
