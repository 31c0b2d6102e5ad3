//! Salesforce Outbound Messages: the SOAP `notifications` a workflow rule or flow sends to
//! a listener (research §5, `SF-OM`; the Tigris WordPress plugin listens to them for
//! vacancies, §4.1). Each message carries up to 100 `Notification`s, each with the changed
//! `sObject`'s type and id; the listener must answer `notificationsResponse` with
//! `<Ack>true</Ack>`, or Salesforce retries the message for 24 hours. Messages can arrive
//! out of order or twice, which is harmless: every event only makes the host re-read.

use ats_connector_sdk::prelude::*;
use quick_xml::Reader;
use quick_xml::events::Event;

/// The acknowledgement Salesforce waits for.
pub const ACK: &str = concat!(
    r#"<?xml version="1.0" encoding="UTF-8"?>"#,
    r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">"#,
    r#"<soapenv:Body><notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound">"#,
    r#"<Ack>true</Ack></notificationsResponse></soapenv:Body></soapenv:Envelope>"#
);

/// Most notifications Salesforce puts in one message; more is not an Outbound Message.
const MAX_NOTIFICATIONS: usize = 100;

/// One changed record of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// The sObject's API name, from `xsi:type="sf:Tigris__Vacancy__c"`.
    pub object: String,
    /// The record id (`sf:Id`).
    pub id: String,
}

/// A parsed message: the sending org and its notifications.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Message {
    pub organization_id: Option<String>,
    pub notifications: Vec<Notification>,
}

fn invalid(detail: impl std::fmt::Display) -> AtsError {
    AtsError::InvalidInput(format!("not a Salesforce Outbound Message: {detail}"))
}

/// The local part of an XML name (`sf:Id` → `Id`).
fn local(name: &[u8]) -> &[u8] {
    name.rsplit(|b| *b == b':').next().unwrap_or(name)
}

/// Parses `body`; anything but a SOAP envelope of `notifications` is `invalid-input`.
pub fn parse(body: &[u8]) -> Result<Message, AtsError> {
    let mut reader = Reader::from_reader(body);
    reader.config_mut().trim_text(true);
    let mut message = Message::default();
    let mut path: Vec<Vec<u8>> = Vec::new();
    let mut current: Option<Notification> = None;
    let mut seen_notifications = false;
    let mut buffer = Vec::new();
    loop {
        match reader.read_event_into(&mut buffer).map_err(invalid)? {
            Event::Start(start) => {
                let name = local(start.name().as_ref()).to_vec();
                if name == b"notifications" {
                    seen_notifications = true;
                }
                if name == b"sObject" {
                    let object = start
                        .attributes()
                        .flatten()
                        .find(|a| local(a.key.as_ref()) == b"type")
                        .map(|a| String::from_utf8_lossy(&a.value).into_owned())
                        .map(|t| t.rsplit(':').next().unwrap_or_default().to_string())
                        .ok_or_else(|| invalid("an sObject without xsi:type"))?;
                    current = Some(Notification { object, id: String::new() });
                }
                path.push(name);
                if path.len() > 16 {
                    return Err(invalid("nested too deeply"));
                }
            }
            // Every end pops its element; the end of an `sObject` completes a notification.
            Event::End(_) if path.pop().as_deref() == Some(b"sObject".as_slice()) => {
                let notification = current.take().ok_or_else(|| invalid("unbalanced"))?;
                if notification.id.is_empty() {
                    return Err(invalid("an sObject without Id"));
                }
                message.notifications.push(notification);
                if message.notifications.len() > MAX_NOTIFICATIONS {
                    return Err(invalid("more than 100 notifications"));
                }
            }
            Event::Text(text) => {
                let value = text.decode().map_err(invalid)?.into_owned();
                let parent = path.last().map(Vec::as_slice);
                let grandparent = path.len().checked_sub(2).and_then(|i| path.get(i));
                match (parent, grandparent.map(Vec::as_slice)) {
                    (Some(b"Id"), Some(b"sObject")) => {
                        if let Some(notification) = current.as_mut() {
                            notification.id = value;
                        }
                    }
                    (Some(b"OrganizationId"), Some(b"notifications")) => {
                        message.organization_id = Some(value);
                    }
                    _ => {}
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buffer.clear();
    }
    if !seen_notifications {
        return Err(invalid("no `notifications` element"));
    }
    Ok(message)
}

/// The reply that acknowledges a message.
pub fn ack() -> WebhookReply {
    WebhookReply { status: 200, content_type: "text/xml; charset=utf-8".into(), body: ACK.into() }
}

/// Change events of `message`: a notification of an object `kind_of` names becomes one
/// event; other objects are skipped. A message of another org than `organization_id` (when
/// the connection names one) is refused.
pub fn events(
    message: &Message,
    organization_id: Option<&str>,
    kind_of: impl Fn(&str) -> Option<ChangeKind>,
) -> Result<Vec<ChangeEvent>, AtsError> {
    if let Some(expected) = organization_id {
        // Salesforce ids compare on their first 15 characters (18-character ids add a
        // case-safe suffix).
        let short = |id: &str| id.chars().take(15).collect::<String>();
        if message.organization_id.as_deref().map(short) != Some(short(expected)) {
            return Err(AtsError::Forbidden(format!(
                "an Outbound Message from org {} for a connection of org {expected}",
                message.organization_id.as_deref().unwrap_or("(none)")
            )));
        }
    }
    Ok(message
        .notifications
        .iter()
        .filter_map(|n| {
            kind_of(&n.object).map(|kind| ChangeEvent {
                kind,
                remote_id: n.id.clone(),
                occurred_at: None,
                raw: serde_json::json!({"object": n.object, "id": n.id}).to_string(),
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MESSAGE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">
   <OrganizationId>00D5g000004Abcd</OrganizationId>
   <ActionId>04k5g000000TEST</ActionId>
   <Notification>
    <Id>04l5g0000001AAA</Id>
    <sObject xsi:type="sf:Tigris__Vacancy__c" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
     <sf:Id>a0V5g00000AbCdEAAV</sf:Id>
     <sf:Name>Developer</sf:Name>
    </sObject>
   </Notification>
  </notifications>
 </soapenv:Body>
</soapenv:Envelope>"#;

    #[test]
    fn a_message_yields_its_records_and_org() {
        let message = parse(MESSAGE.as_bytes()).expect("parses");
        assert_eq!(message.organization_id.as_deref(), Some("00D5g000004Abcd"));
        assert_eq!(
            message.notifications,
            vec![Notification {
                object: "Tigris__Vacancy__c".into(),
                id: "a0V5g00000AbCdEAAV".into()
            }]
        );
    }

    #[test]
    fn other_bodies_are_invalid_input() {
        for body in ["{}", "<a><b></a>", "<soapenv:Envelope/>"] {
            assert!(matches!(parse(body.as_bytes()), Err(AtsError::InvalidInput(_))), "{body}");
        }
    }
}
