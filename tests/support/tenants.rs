//! One municipality's configuration in a multi-municipality deployment: its extract and data
//! directory under `home`, its state in the schema `kpr_NNNN` of the shared database, the
//! test certificates, and the delivery section the test gives.

use std::path::Path;

/// The configuration's text; `index` makes its HER-ids differ from the others'.
pub fn config(
    home: &Path,
    database_url: &str,
    number: &str,
    index: usize,
    delivery: &str,
) -> String {
    format!(
        r#"mode = "test"
data_dir = "{home}/state"
mapping = "{mapping}"
[state]
url = "{database_url}"
schema = "kpr_{number}"
[municipality]
number = "{number}"
name = "Kommune {number}"
[her_id]
municipality = "{her}"
service_unit = "{unit}"
[[source]]
name = "epj"
kind = "extract"
path = "{home}/extract"
product = "Test-EPJ"
version = "1.0"
{delivery}
{certificates}"#,
        home = home.display(),
        mapping = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("mappings/sample-epj.toml")
            .display(),
        her = 100_000 + index,
        unit = 200_000 + index,
        certificates = super::amqp::municipality_certificates(),
    )
}
