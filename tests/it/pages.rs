//! Paginated lists: a stable order, each item once, and cursors that open only their own list.

use std::collections::BTreeSet;

use futures::stream::{self, StreamExt};
use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;

async fn join(stack: &local_stack::Stack, owner: &User, org: &str) -> User {
    let user = register(stack, &email("member")).await;
    let id = invite(stack, owner, org, &user.email).await;
    let answer = post(stack, &format!("/v1/invitations/{id}/accept"), &user, json!({})).await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    user
}

async fn leave(stack: &local_stack::Stack, owner: &User, org: &str, who: &str) {
    let path = format!("/v1/organizations/{org}/members/{who}");
    assert_eq!(call(stack, "DELETE", &path, Some(&owner.token), None).await.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn two_hundred_fifty_members_are_listed_each_exactly_once_while_others_come_and_go() {
    // Without the stream pump: no emails for 250 invitations, only the lists are at stake here.
    let stack =
        stack_with(local_stack::StackOptions { pump: false, ..local_stack::StackOptions::for_test() }).await;
    let alice = register(&stack, &email("alice")).await;
    let org = personal_org(&stack, &alice).await;
    // Fifty invitations a day: the organization grows over five days.
    let mut members: Vec<User> = Vec::new();
    for day in [45, 50, 50, 50, 50, 4] {
        let joined: Vec<User> =
            stream::iter(0..day).map(|_| join(&stack, &alice, &org)).buffer_unordered(4).collect().await;
        members.extend(joined);
        stack.clock.advance(time::Duration::hours(24));
    }
    let mut everyone: BTreeSet<String> = members.iter().map(|m| m.sub.clone()).collect();
    everyone.insert(alice.sub.clone());
    assert_eq!(everyone.len(), 250);

    let mut listed = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    let (mut gone, mut arrived) = (BTreeSet::new(), BTreeSet::new());
    loop {
        let mut path = format!("/v1/organizations/{org}/members?limit=37");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page = get(&stack, &path, &alice).await;
        assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
        let ids: Vec<String> = page.body["members"]
            .as_array()
            .expect("members")
            .iter()
            .map(|m| m["user_id"].as_str().expect("user id").to_owned())
            .collect();
        assert!(ids.len() <= 37);
        listed.extend(ids);
        pages += 1;
        // Between pages, one member already listed leaves, one not yet listed leaves, one joins.
        if pages <= 3 {
            let seen: BTreeSet<&String> = listed.iter().collect();
            let earlier =
                everyone.iter().find(|m| seen.contains(m) && **m != alice.sub && !gone.contains(*m)).cloned();
            let later = everyone.iter().rev().find(|m| !seen.contains(m) && !gone.contains(*m)).cloned();
            for who in [earlier, later].into_iter().flatten() {
                leave(&stack, &alice, &org, &who).await;
                gone.insert(who);
            }
            arrived.insert(join(&stack, &alice, &org).await.sub);
        }
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }

    let unique: BTreeSet<&String> = listed.iter().collect();
    assert_eq!(unique.len(), listed.len(), "no member is listed twice");
    let stayed: BTreeSet<&String> = everyone.iter().filter(|m| !gone.contains(*m)).collect();
    assert!(stayed.is_subset(&unique), "every member present throughout is listed");
    assert!(unique.iter().all(|m| everyone.contains(*m) || arrived.contains(*m)), "nothing else is");
    assert!(pages >= 7, "{pages} pages of at most 37");

    // The whole list again, undisturbed, a hundred at a time: the same members, in one order.
    let mut again = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/v1/organizations/{org}/members?limit=100");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page = get(&stack, &path, &alice).await;
        again.extend(page.body["members"].as_array().expect("members").iter().map(|m| m["user_id"].clone()));
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    let expected: usize = 250 - gone.len() + arrived.len();
    assert_eq!(again.len(), expected);
    let mut sorted = again.clone();
    sorted.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    assert_eq!(again, sorted, "a stable order");
}

#[tokio::test]
async fn a_cursor_from_one_list_or_organization_opens_no_other() {
    let stack = stack().await;
    let alice = register(&stack, &email("alice")).await;
    let org = personal_org(&stack, &alice).await;
    for _ in 0..2 {
        join(&stack, &alice, &org).await;
    }
    let first = get(&stack, &format!("/v1/organizations/{org}/members?limit=1"), &alice).await;
    let cursor = first.body["next_cursor"].as_str().expect("more pages").to_owned();
    let mallory = register(&stack, &email("mallory")).await;
    let hers = personal_org(&stack, &mallory).await;

    for (path, who) in [
        (format!("/v1/organizations/{hers}/members?cursor={cursor}"), &mallory),
        (format!("/v1/organizations/{org}/events?cursor={cursor}"), &alice),
        (format!("/v1/organizations/{org}/invitations?cursor={cursor}"), &alice),
        (format!("/v1/organizations/{org}/members?cursor={}x", &cursor[..cursor.len() - 1]), &alice),
    ] {
        assert_problem(&get(&stack, &path, who).await, 400, &path);
    }
    let next = get(&stack, &format!("/v1/organizations/{org}/members?limit=1&cursor={cursor}"), &alice).await;
    assert_eq!(next.status, StatusCode::OK);
    assert_ne!(next.body["members"][0]["user_id"], first.body["members"][0]["user_id"]);
}
