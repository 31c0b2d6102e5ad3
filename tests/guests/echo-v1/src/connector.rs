// Shared by echo-v1 and echo-v2 (included with a different VERSION): a well-behaved
// connector whose answers name the version that produced them, for hot-swap tests.
use ats_connector_sdk::prelude::*;

struct Echo;

impl Connector for Echo {
    fn describe() -> Manifest {
        Manifest {
            id: "echo".into(),
            ats_name: "Echo test ATS".into(),
            connector_version: VERSION.into(),
            operations: vec![Operation::ListJobs],
            config_fields: Vec::new(),
            egress_hosts: Vec::new(),
            ..Default::default()
        }
    }

    fn list_jobs(_config: Config, _page: PageRequest) -> Result<JobPage, AtsError> {
        let job = Job {
            id: "1".into(),
            code: None,
            title: format!("echo {VERSION}"),
            status: JobStatus::Open,
            location: None,
            description: None,
            department: None,
            assigned_users: Vec::new(),
            created_at: None,
            updated_at: None,
            custom_fields: Vec::new(),
            raw: "{}".into(),
            ..Default::default()
        };
        Ok(JobPage { items: vec![job], next_page_token: None })
    }
}

ats_connector_sdk::export_connector!(Echo);
