//! `UserService`: the account's seeded users and `UserService.getList`, answered as a plain
//! list, as the official plugin reads it.

use super::store::Row;
use super::{RpcError, Shared, listing};
use serde_json::{Value, json};

pub(super) fn seed_users() -> Vec<Row> {
    let users = json!([
        { "uid": "11", "blocked": false, "Person": { "firstName": "Eva", "infix": "de",
          "lastName": "Boer", "emailPrimary": "eva@otys.example" } },
        { "uid": "12", "blocked": true, "Person": { "firstName": "Tom", "lastName": "Jansen",
          "emailPrimary": "tom@otys.example" } },
        { "uid": "13", "blocked": false, "Person": { "firstName": "Sara", "lastName": "Visser" } },
    ]);
    users.as_array().into_iter().flatten().filter_map(|u| u.as_object().cloned()).collect()
}

impl Shared {
    /// `UserService.getList`: a plain list, as the plugin reads it (`$userList[0]`).
    pub(super) fn user_list(&self, args: &[Value]) -> Result<Value, RpcError> {
        let options = listing::ListOptions::parse(
            args.first().ok_or_else(|| RpcError::invalid_params("missing argument 1"))?,
        )?;
        let fields = ["uid", "blocked", "Person.emailPrimary", "Person.lastName"];
        let answer = options.answer(self.users.iter(), &fields)?;
        Ok(answer.get("listOutput").cloned().unwrap_or(Value::Array(Vec::new())))
    }
}
