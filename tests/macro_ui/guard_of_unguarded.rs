use tower_bearer::guard_of;

async fn plain() -> &'static str {
    "no guard"
}

fn main() {
    let _ = guard_of!(plain);
    let _ = plain;
}
