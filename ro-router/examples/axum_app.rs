//! An axum service on ro-router: GET handlers read through `DbRo` / `get_db_ro()`, POST
//! handlers write through `DbRw` / `get_db()`, plus `/health` (JSON) and `/metrics`
//! (Prometheus). Every response says which pool served it (`x-db-route`, `x-db-target`).
//! Read-your-writes: a `DbRw` request's response sets the `ro_router_lsn` cookie, and a `DbRo`
//! request sending it back is served by a replica only once that replica has the write.
//!
//! ```text
//! ro-router/scripts/pg-cluster start            # primary + 2 replicas + pgBouncer
//! eval "$(ro-router/scripts/pg-cluster env)"
//! cargo run -p ro-router --features axum --example axum_app
//! curl -si -XPOST localhost:3000/items -H 'content-type: application/json' -d '{"name":"widget"}'
//! curl -si localhost:3000/items/1               # x-db-route: replica
//! curl -si localhost:3000/items -H 'cookie: ro_router_lsn=0/3000148'   # a replica with the write
//! ```

use axum::{
    extract::{FromRef, Path, State},
    http::{header::HeaderName, HeaderValue, StatusCode},
    middleware,
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use ro_router::{
    axum::{read_your_writes, DbRo, DbRw, ReadYourWrites},
    DbRouter, RouterError,
};
use serde::Deserialize;
use serde_json::json;

/// The app state: the router (and whatever else an app keeps).
#[derive(Clone)]
pub struct AppState {
    pub db: DbRouter,
}

impl FromRef<AppState> for DbRouter {
    fn from_ref(state: &AppState) -> DbRouter {
        state.db.clone()
    }
}

pub fn app(db: DbRouter) -> Router {
    Router::new()
        .route("/items", get(list_items).post(create_item))
        .route("/items/{id}", get(show_item))
        .route("/items/{id}/rename", post(rename_item))
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .layer(middleware::from_fn_with_state(ReadYourWrites::new(db.clone()), read_your_writes))
        .with_state(AppState { db })
}

/// Creates the table the example uses (on the primary).
pub async fn migrate(db: &DbRouter) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    db.get_db()
        .await?
        .batch_execute("CREATE TABLE IF NOT EXISTS items (id bigserial PRIMARY KEY, name text NOT NULL)")
        .await?;
    Ok(())
}

fn routed(route: &str, target: &str) -> [(HeaderName, HeaderValue); 2] {
    [
        (HeaderName::from_static("x-db-route"), HeaderValue::from_str(route).unwrap()),
        (HeaderName::from_static("x-db-target"), HeaderValue::from_str(target).unwrap()),
    ]
}

fn failed(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "request failed");
    (StatusCode::INTERNAL_SERVER_ERROR, "internal error\n").into_response()
}

fn unavailable(e: RouterError) -> Response {
    tracing::error!(error = %e, "no database connection");
    (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n").into_response()
}

/// GET: a read-only connection from the extractor.
async fn list_items(db: DbRo) -> Response {
    match db.query("SELECT id, name FROM items ORDER BY id", &[]).await {
        Ok(rows) => {
            let items: Vec<_> = rows
                .iter()
                .map(|r| json!({"id": r.get::<_, i64>(0), "name": r.get::<_, String>(1)}))
                .collect();
            (routed(db.routes_to().as_str(), db.target()), Json(items)).into_response()
        }
        Err(e) => failed(e),
    }
}

/// GET: a read-only connection from the router in the state.
async fn show_item(State(state): State<AppState>, Path(id): Path<i64>) -> Response {
    let db = match state.db.get_db_ro().await {
        Ok(db) => db,
        Err(e) => return unavailable(e),
    };
    match db.query_opt("SELECT id, name FROM items WHERE id = $1", &[&id]).await {
        Ok(Some(r)) => (
            routed(db.routes_to().as_str(), db.target()),
            Json(json!({"id": r.get::<_, i64>(0), "name": r.get::<_, String>(1)})),
        )
            .into_response(),
        Ok(None) => (StatusCode::NOT_FOUND, "no such item\n").into_response(),
        Err(e) => failed(e),
    }
}

#[derive(Deserialize)]
struct NewName {
    name: String,
}

/// POST: a read-write connection from the extractor.
async fn create_item(db: DbRw, Json(item): Json<NewName>) -> Response {
    match db.query_one("INSERT INTO items (name) VALUES ($1) RETURNING id", &[&item.name]).await {
        Ok(row) => (
            StatusCode::CREATED,
            routed(db.routes_to().as_str(), db.target()),
            Json(json!({"id": row.get::<_, i64>(0)})),
        )
            .into_response(),
        Err(e) => failed(e),
    }
}

/// POST: a read-write connection from the router in the state.
async fn rename_item(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Json(item): Json<NewName>,
) -> Response {
    let db = match state.db.get_db().await {
        Ok(db) => db,
        Err(e) => return unavailable(e),
    };
    match db.execute("UPDATE items SET name = $2 WHERE id = $1", &[&id, &item.name]).await {
        Ok(0) => (StatusCode::NOT_FOUND, "no such item\n").into_response(),
        Ok(_) => (StatusCode::NO_CONTENT, routed(db.routes_to().as_str(), db.target())).into_response(),
        Err(e) => failed(e),
    }
}

async fn health(State(state): State<AppState>) -> Response {
    let report = state.db.health();
    let code = match report.status {
        ro_router::OverallStatus::Down => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::OK,
    };
    (code, Json(report)).into_response()
}

async fn metrics(State(state): State<AppState>) -> String {
    state.db.render_metrics()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    tracing_subscriber::fmt().init();
    let db = DbRouter::from_env().await?;
    migrate(&db).await?;
    let addr = std::env::var("BIND_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    tracing::info!("listening on http://{addr}");
    axum::serve(listener, app(db)).await?;
    Ok(())
}
