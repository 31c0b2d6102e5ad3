//! What the contract (`wit/since_v0.2.0/connector.wit`) defines, as data: every operation a
//! manifest can declare (list or single call, its input fields, the record it answers) and
//! every record's fields with their types, so manifests are checked against it and mapped
//! values are coerced to it.

/// How an operation is called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CallKind {
    /// Paged: `Executor::list`.
    List,
    /// One request (or a dedupe look-up and one request): `Executor::one`.
    Single,
}

/// One operation a manifest can declare.
#[derive(Debug)]
pub(crate) struct OperationDef {
    pub name: &'static str,
    pub call: CallKind,
    /// The record each item (list) or the answer (single) is mapped onto.
    pub output: &'static RecordDef,
    /// Whether the output is mapped with `fields` (a remote record) or `result` (an answer).
    pub mapped_with: Mapping,
    /// Top-level keys of the operation's input JSON (`input.<key>`).
    pub input: &'static [&'static str],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mapping {
    Fields,
    Result,
}

/// A record of the contract.
#[derive(Debug)]
pub(crate) struct RecordDef {
    pub name: &'static str,
    pub fields: &'static [(&'static str, FieldType)],
    /// Whether it has `raw` (the remote record's JSON text, always filled by the crate).
    pub has_raw: bool,
}

/// The type of one record field.
#[derive(Debug, Clone, Copy)]
pub(crate) enum FieldType {
    Text,
    /// A non-negative whole number (u32).
    Integer,
    Bool,
    /// A string from a fixed set (a WIT enum).
    Enum(&'static [&'static str]),
    Texts,
    Record(&'static RecordDef),
    Records(&'static RecordDef),
}

use FieldType::{Bool, Enum, Integer, Record, Records, Text, Texts};

const FIELD: RecordDef =
    RecordDef { name: "field", fields: &[("name", Text), ("value", Text)], has_raw: false };
const LOCATION: RecordDef = RecordDef {
    name: "location",
    fields: &[
        ("text", Text),
        ("city", Text),
        ("region", Text),
        ("country", Text),
        ("postal_code", Text),
        ("remote", Bool),
    ],
    has_raw: false,
};
const OPTION: RecordDef =
    RecordDef { name: "question-option", fields: &[("id", Text), ("label", Text)], has_raw: false };
const QUESTION: RecordDef = RecordDef {
    name: "screening-question",
    fields: &[
        ("id", Text),
        ("text", Text),
        (
            "kind",
            Enum(&[
                "text",
                "long-text",
                "single-select",
                "multi-select",
                "number",
                "boolean",
                "date",
                "file",
            ]),
        ),
        ("required", Bool),
        ("options", Records(&OPTION)),
    ],
    has_raw: false,
};
const ANSWER: RecordDef = RecordDef {
    name: "answer",
    fields: &[("question_id", Text), ("question", Text), ("answer", Text)],
    has_raw: false,
};
const LINK: RecordDef =
    RecordDef { name: "profile-link", fields: &[("kind", Text), ("url", Text)], has_raw: false };

const JOB: RecordDef = RecordDef {
    name: "job",
    fields: &[
        ("id", Text),
        ("code", Text),
        ("title", Text),
        ("status", Enum(&["open", "closed", "draft", "archived"])),
        ("location", Record(&LOCATION)),
        (
            "employment_type",
            Enum(&[
                "full-time",
                "part-time",
                "contract",
                "temporary",
                "internship",
                "freelance",
                "other",
            ]),
        ),
        ("description", Text),
        ("department", Text),
        ("assigned_users", Texts),
        ("post_url", Text),
        ("screening_questions", Records(&QUESTION)),
        ("opened_at", Text),
        ("closed_at", Text),
        ("created_at", Text),
        ("updated_at", Text),
        ("custom_fields", Records(&FIELD)),
    ],
    has_raw: true,
};
const STAGE: RecordDef = RecordDef {
    name: "stage",
    fields: &[("id", Text), ("name", Text), ("job_id", Text), ("position", Integer)],
    has_raw: true,
};
const CANDIDATE: RecordDef = RecordDef {
    name: "candidate",
    fields: &[
        ("id", Text),
        ("first_name", Text),
        ("last_name", Text),
        ("emails", Texts),
        ("phones", Texts),
        ("tags", Texts),
        ("source", Text),
        ("location", Record(&LOCATION)),
        ("company", Text),
        ("title", Text),
        ("links", Records(&LINK)),
        ("updated_at", Text),
        ("custom_fields", Records(&FIELD)),
    ],
    has_raw: true,
};
const APPLICATION: RecordDef = RecordDef {
    name: "application",
    fields: &[
        ("id", Text),
        ("candidate_id", Text),
        ("job_id", Text),
        ("stage_id", Text),
        ("stage_name", Text),
        ("status", Enum(&["active", "rejected", "hired", "withdrawn"])),
        ("source", Text),
        ("rejection_reason", Text),
        ("rejected_at", Text),
        ("hired_at", Text),
        ("answers", Records(&ANSWER)),
        ("created_at", Text),
        ("updated_at", Text),
        ("custom_fields", Records(&FIELD)),
    ],
    has_raw: true,
};
const UPSERT_RESULT: RecordDef = RecordDef {
    name: "upsert-result",
    fields: &[("candidate_id", Text), ("outcome", Enum(&["created", "matched"]))],
    has_raw: false,
};
const WRITE_RECEIPT: RecordDef = RecordDef {
    name: "write-receipt",
    fields: &[("remote_id", Text), ("remark", Text)],
    has_raw: false,
};
const ACCOUNT: RecordDef =
    RecordDef { name: "account", fields: &[("display_name", Text)], has_raw: false };
const TAG: RecordDef =
    RecordDef { name: "tag", fields: &[("id", Text), ("name", Text)], has_raw: false };
const REJECTION_REASON: RecordDef =
    RecordDef { name: "rejection-reason", fields: &[("id", Text), ("name", Text)], has_raw: false };
const USER: RecordDef = RecordDef {
    name: "user",
    fields: &[
        ("id", Text),
        ("first_name", Text),
        ("last_name", Text),
        ("email", Text),
        ("active", Bool),
    ],
    has_raw: false,
};

/// The WIT `change-kind` names.
pub(crate) const CHANGE_KINDS: &[&str] = &[
    "job-changed",
    "job-deleted",
    "candidate-changed",
    "application-changed",
    "application-stage-changed",
];

/// A change an inbound webhook announces (`[webhook] fields`).
pub(crate) const CHANGE_EVENT: RecordDef = RecordDef {
    name: "change-event",
    fields: &[("kind", Enum(CHANGE_KINDS)), ("remote_id", Text), ("occurred_at", Text)],
    has_raw: true,
};

macro_rules! op {
    ($name:literal, $call:ident, $output:ident, $mapping:ident, $input:expr) => {
        OperationDef {
            name: $name,
            call: CallKind::$call,
            output: &$output,
            mapped_with: Mapping::$mapping,
            input: $input,
        }
    };
}

/// Every operation a manifest can declare, in the WIT's order.
pub(crate) const OPERATIONS: &[OperationDef] = &[
    op!("list-jobs", List, JOB, Fields, &[]),
    op!("list-stages", List, STAGE, Fields, &["job_id"]),
    op!("list-applications", List, APPLICATION, Fields, &[]),
    op!("get-candidate", Single, CANDIDATE, Fields, &["candidate_id"]),
    op!("find-candidates", List, CANDIDATE, Fields, &["email", "phone", "lookup"]),
    op!(
        "upsert-candidate",
        Single,
        UPSERT_RESULT,
        Result,
        &[
            "first_name",
            "last_name",
            "emails",
            "phones",
            "source",
            "location",
            "company",
            "title",
            "links",
            "custom_fields",
        ]
    ),
    op!(
        "create-application",
        Single,
        APPLICATION,
        Fields,
        &["candidate_id", "job_id", "stage_id", "source", "answers"]
    ),
    op!("move-application", Single, WRITE_RECEIPT, Result, &["application_id", "stage_id"]),
    op!("add-note", Single, WRITE_RECEIPT, Result, &["target", "body"]),
    op!("add-tag", Single, WRITE_RECEIPT, Result, &["target", "tag"]),
    op!(
        "add-attachment",
        Single,
        WRITE_RECEIPT,
        Result,
        &["target", "filename", "content_type", "kind", "content_base64", "size", "content"]
    ),
    op!(
        "reject-application",
        Single,
        WRITE_RECEIPT,
        Result,
        &["application_id", "reason", "reason_id"]
    ),
    op!(
        "write-result",
        Single,
        WRITE_RECEIPT,
        Result,
        &[
            "application_id",
            "status",
            "score",
            "max_score",
            "link",
            "summary",
            "sub_results",
            "report"
        ]
    ),
    op!("check", Single, ACCOUNT, Result, &[]),
    op!("list-tags", List, TAG, Fields, &[]),
    op!("list-rejection-reasons", List, REJECTION_REASON, Fields, &[]),
    op!("list-users", List, USER, Fields, &[]),
    op!("get-application", Single, APPLICATION, Fields, &["application_id"]),
    op!("remove-tag", Single, WRITE_RECEIPT, Result, &["target", "tag"]),
    op!("register-webhook", Single, WRITE_RECEIPT, Result, &["url", "secret", "kinds"]),
    op!("unregister-webhook", Single, WRITE_RECEIPT, Result, &["remote_id"]),
];

/// Operations of the contract a manifest cannot declare, with the reason.
pub(crate) const NOT_DECLARABLE: &[(&str, &str)] = &[(
    "parse-webhook",
    "parse-webhook reads an inbound request, it makes none: declare it with a [webhook] section (events, fields, signature, reply)",
)];

/// The WIT `result-mode` names.
pub(crate) const RESULT_MODES: &[&str] = &["score-field", "link-field", "note", "attachment"];

pub(crate) fn operation(name: &str) -> Option<&'static OperationDef> {
    OPERATIONS.iter().find(|op| op.name == name)
}

impl RecordDef {
    pub fn field(&self, name: &str) -> Option<FieldType> {
        self.entry(name).map(|(_, kind)| kind)
    }

    /// The field called `name`, with its name as the contract spells it.
    pub fn entry(&self, name: &str) -> Option<(&'static str, FieldType)> {
        self.fields.iter().find(|(field, _)| *field == name).copied()
    }

    pub fn field_names(&self) -> Vec<&'static str> {
        self.fields.iter().map(|(name, _)| *name).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_is_unique_and_has_an_output() {
        for (i, op) in OPERATIONS.iter().enumerate() {
            assert!(OPERATIONS[i + 1..].iter().all(|other| other.name != op.name), "{}", op.name);
            assert!(!op.output.fields.is_empty());
        }
    }
}
