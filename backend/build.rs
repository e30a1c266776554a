//! Tells utoipa's derives (the OpenAPI document's schemas) that chat-wire's id aliases are integers: a derive
//! sees only the name `BookingId`, and would otherwise look for a schema of that name.

fn main() {
    utoipa_config::Config::new().alias_for("BookingId", "i64").alias_for("MessageId", "i64").write_to_file();
}
