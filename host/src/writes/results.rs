//! `write-result`: a result goes to the ATS's result field when the connector declares
//! `write-result`, else into a note on the application (on its candidate when the ATS keeps
//! notes on candidates only and the caller or `get-application` names the candidate). Its report (a PDF) goes where the
//! manifest says the ATS can keep it: inside the result when the connector lists the
//! `attachment` result mode, else as an attachment of its own (on the application, or on its
//! candidate when the ATS keeps files on candidates only). The choice is made from the
//! manifest, never from an error text.

use super::outcome::{Fallback, PartReport, ReceiptStatus, ResultReport};
use super::requests::{ResultRequest, ValidatedFile};
use super::{Run, WriteError, attachment, receipt_id};
use crate::model::{
    AttachmentKind, NoteInput, Operation, ReportFile, ResultInput, ResultMode, ResultStatus, Target,
};
use crate::runtime::{Invocation, Output};

impl Run<'_, '_> {
    pub(super) async fn result(
        &mut self,
        request: ResultRequest,
    ) -> Result<ResultReport, WriteError> {
        let manifest = &self.target.connector.manifest;
        let connector = manifest.id.clone();
        let report = request
            .validated_report
            .clone()
            .or_else(|| request.report.as_ref().map(ValidatedFile::from_parts));
        let native = self.supports(Operation::WriteResult);
        let note = !native && self.supports(Operation::AddNote);
        let report_inside = native && manifest.result_modes.contains(&ResultMode::Attachment);
        let report_apart =
            report.is_some() && !report_inside && self.supports(Operation::AddAttachment);
        if !native && !note && !report_apart {
            return Err(WriteError::Unsupported {
                connector,
                operation: Operation::WriteResult.wit_name().into(),
                detail: "the ATS has no result field, no notes and no attachments".into(),
            });
        }
        let application_id = request.application_id.clone();
        let known_candidate = request.candidate_id.clone();
        let input = ResultInput {
            application_id: application_id.clone(),
            status: request.status,
            score: request.score,
            max_score: request.max_score,
            link: request.link,
            summary: request.summary,
            sub_results: request.sub_results,
            report: report.as_ref().filter(|_| report_inside).map(|file| ReportFile {
                filename: file.filename.clone(),
                content_type: file.content_type.clone(),
                content: file.content.clone(),
            }),
        };
        let mut answer = ResultReport {
            status: ReceiptStatus::Done,
            remote_id: None,
            fallback: None,
            detail: None,
            report: None,
        };
        if native {
            let output = self
                .part("write", Invocation::WriteResult(input))
                .await
                .map_err(WriteError::Call)?;
            answer.remote_id = receipt_id(&output);
        } else if note {
            let body = result_note(&input);
            let on_application = NoteInput {
                target: Target::Application(application_id.clone()),
                body: body.clone(),
            };
            let (output, on) = match self.part("write", Invocation::AddNote(on_application)).await {
                Ok(output) => (output, "the application"),
                // Notes on candidates only (Recruitee): the note goes on the application's
                // candidate, when the caller or the ATS can say who that is.
                Err(error)
                    if matches!(error.kind(), "invalid-input" | "not-found" | "unsupported") =>
                {
                    let Some(candidate) =
                        self.candidate_of(&application_id, known_candidate.as_deref()).await
                    else {
                        return Err(WriteError::Call(error));
                    };
                    let on_candidate = NoteInput { target: Target::Candidate(candidate), body };
                    let output = self
                        .part("write", Invocation::AddNote(on_candidate))
                        .await
                        .map_err(WriteError::Call)?;
                    (output, "its candidate")
                }
                Err(error) => return Err(WriteError::Call(error)),
            };
            answer.remote_id = receipt_id(&output);
            answer.fallback = Some(Fallback::Note);
            answer.detail = Some(format!(
                "the {connector} connector has no result field; the result was written as a note on {on}"
            ));
        } else {
            answer.fallback = Some(Fallback::Attachment);
            answer.detail = Some(format!(
                "the {connector} connector has no result field and no notes; only the report was stored"
            ));
        }
        match report {
            Some(report) if report_apart => {
                let target = self.report_target(&application_id, known_candidate.as_deref()).await;
                let invocation =
                    Invocation::AddAttachment(attachment(target, &report, AttachmentKind::Report));
                let (part, _) = self.optional("report", Operation::AddAttachment, invocation).await;
                answer.report = Some(part);
            }
            Some(_) if !report_inside => {
                answer.report = Some(PartReport::unsupported(
                    "report",
                    format!("the {connector} connector cannot store files"),
                ));
            }
            _ => {}
        }
        Ok(answer)
    }

    /// Where a result's report goes: the application, or its candidate when the ATS keeps
    /// files on candidates only.
    async fn report_target(&self, application_id: &str, known: Option<&str>) -> Target {
        if self.target.connector.manifest.application_attachments {
            return Target::Application(application_id.to_string());
        }
        match self.candidate_of(application_id, known).await {
            Some(candidate) => Target::Candidate(candidate),
            None => Target::Application(application_id.to_string()),
        }
    }

    /// The candidate of an application: as the caller named it, else as `get-application`
    /// answers (when the connector has it).
    async fn candidate_of(&self, application_id: &str, known: Option<&str>) -> Option<String> {
        if let Some(candidate) = known.filter(|c| !c.trim().is_empty()) {
            return Some(candidate.to_string());
        }
        if !self.supports(Operation::GetApplication) {
            return None;
        }
        let lookup = Invocation::GetApplication { application_id: application_id.to_string() };
        match self.call(lookup, None).await {
            Ok(Output::Application(application)) => Some(application.candidate_id),
            _ => None,
        }
    }
}

/// The note written when an ATS has no result field.
pub fn result_note(result: &ResultInput) -> String {
    let mut lines = vec![match result.status {
        ResultStatus::Completed => "Assessment result".to_string(),
        ResultStatus::Cancelled => "Assessment cancelled".to_string(),
    }];
    if let Some(score) = result.score {
        lines.push(match result.max_score {
            Some(max) => format!("Score: {score} / {max}"),
            None => format!("Score: {score}"),
        });
    }
    for part in &result.sub_results {
        lines.push(match part.max_score {
            Some(max) => format!("- {}: {} / {max}", part.label, part.score),
            None => format!("- {}: {}", part.label, part.score),
        });
    }
    if let Some(summary) = &result.summary {
        lines.push(summary.clone());
    }
    if let Some(link) = &result.link {
        lines.push(format!("Report: {link}"));
    }
    lines.join("\n")
}
