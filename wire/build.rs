//! With the `openapi` feature: tells utoipa's `ToSchema` derives that the id aliases are integers (a derive
//! sees only the name `BookingId`, and would otherwise look for a schema of that name).

fn main() {
    #[cfg(feature = "openapi")]
    utoipa_config::Config::new().alias_for("BookingId", "i64").alias_for("MessageId", "i64").write_to_file();
}
