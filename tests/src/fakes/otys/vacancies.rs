//! `VacancyService` beyond the store's list: the vacancy fields the official plugin requests
//! (and the refusal of any other), the fields a seeded vacancy carries beyond the store's
//! basics, and `VacancyService.getDetail`.

use super::store::{Row, Store};
use super::{INTERNAL_ID_BASE, RpcError, listing, text};
use serde_json::{Value, json};

/// The fields of a vacancy the official plugin requests (`VacanciesListModel`,
/// `VacanciesDetailModel`); the fake refuses any other, so a client cannot rely on a field an
/// account may not have (`extraInfoN` must first be looked up, as the plugin does).
const VACANCY_WHAT: &str = "uid internalId title location relation category status userEmail \
    photoFileName applyCount PhotoGallery referenceNr externalReferenceNr entryDateTime \
    lastModified salaryCurrency salaryValue salaryUnit salaryMin salaryMax publicationStartDate \
    publicationEndDate publicationFirstDate publicationStatus publicationStatusId showEmployer \
    blockScanners removeApplyButton categoryId alternativeCategories statusId user userInitials \
    userId userPhoneMobile createdByUser locationAddress locationCity locationCityId \
    locationPostcode locationState locationCountry locationCountryCode applyCountToday \
    matchCriteriaNames locationLatitude locationLongitude applyUrls customApplyUrl \
    customDetailUrl hoursType hoursUnit hours housTotal tariffUnit tariff currencyId \
    assignmentType slug textField_description textField_companyProfile \
    textField_requirements textField_salary textField_companyCulture textField_summary";

pub(super) fn check_vacancy_what(what: Option<&Value>) -> Result<(), RpcError> {
    let Some(what) = what.and_then(Value::as_object) else { return Ok(()) };
    let known = |field: &str| {
        VACANCY_WHAT.split_whitespace().any(|f| f == field)
            || field
                .strip_prefix("textField_extra")
                .and_then(|n| n.parse::<u8>().ok())
                .is_some_and(|n| (1..=10).contains(&n))
            || field
                .strip_prefix("matchCriteria_")
                .and_then(|n| n.parse::<u8>().ok())
                .is_some_and(|n| (1..=18).contains(&n))
    };
    match what.keys().find(|field| !known(field)) {
        Some(unknown) => {
            Err(RpcError::invalid_params(&format!("unknown vacancy field `{unknown}`")))
        }
        None => Ok(()),
    }
}

/// What the plugin's vacancies carry beyond the store's basics: `internalId`, text fields
/// (`{title, text}`, HTML, `null` when empty) and the location parts.
pub(super) fn enrich_vacancy(vacancy: &mut Row, uid: u64) {
    let title = text(vacancy.get("title"));
    let extra = json!({
        "internalId": INTERNAL_ID_BASE + uid,
        "textField_summary": { "title": "About [functie_o]", "text": format!("<p>Join us as {title}.</p>") },
        "textField_description": { "title": "Functieomschrijving", "text": "<p>You build data pipelines.</p>" },
        "textField_requirements": { "title": "Functie-eisen", "text": "<ul><li>SQL</li></ul>" },
        "textField_salary": { "title": "Salaris", "text": null },
        "textField_companyProfile": { "title": "Bedrijfsprofiel", "text": "" },
        "textField_extra1": { "title": "Intern", "text": "<p>Internal remark</p>" },
        "locationCity": "Utrecht", "locationState": "Utrecht", "locationCountry": "Nederland",
        "locationCountryCode": "NL", "locationPostcode": "3511 AB",
    });
    for (key, value) in extra.as_object().into_iter().flatten() {
        vacancy.insert(key.clone(), value.clone());
    }
}

/// `VacancyService.getDetail(uid, what)`.
pub(super) fn vacancy_detail(store: &Store, args: &[Value]) -> Result<Value, RpcError> {
    let uid = args
        .first()
        .and_then(|v| text(Some(v)).parse::<u64>().ok())
        .ok_or_else(|| RpcError::invalid_params("bad vacancy uid"))?;
    check_vacancy_what(args.get(1))?;
    let vacancy = store.vacancies.get(&uid).ok_or_else(|| RpcError::not_found("Vacancy"))?;
    match args.get(1) {
        Some(what) if what.is_object() => listing::project(vacancy, what),
        _ => Ok(Value::Object(vacancy.clone())),
    }
}
