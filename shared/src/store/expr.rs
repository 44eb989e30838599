//! Condition, update and key-condition expressions built from attribute paths and values.
//!
//! Every attribute name becomes a `#name` placeholder and every value a generated `:vN`, so no
//! expression string, reserved word (`state`, `name`, `role`, `status`, `ttl`...) or placeholder
//! is written by hand, and a value is never spliced into an expression. Transaction actions keep
//! their names (`Tx`), and cancellation reasons are read by those names.
//!
//! Our own: about two hundred lines for the shapes the store uses. The one crate that does this
//! (`dynamodb-expression`) is a beta that brings five dependencies, and its default features an
//! older HTTP client, into every function; the store needs comparisons, `IN`, existence,
//! `begins_with`, `SET`/`ADD`/`REMOVE` and `if_not_exists` counters, nothing more.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::schema;

/// A document path: an attribute, or a member of a map attribute (`account.role_arn`, or
/// `keys.{key_id}` where the member's name is data).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Path(Vec<std::borrow::Cow<'static, str>>);

/// The attribute `name` of an item.
pub(crate) fn attr(name: &'static str) -> Path {
    Path(vec![name.into()])
}

/// "The item exists": its partition key is present.
pub(crate) fn exists() -> Cond {
    attr(schema::PK).exists()
}

/// "No such item yet": its partition key is absent.
pub(crate) fn absent() -> Cond {
    attr(schema::PK).missing()
}

impl Path {
    /// The member `name` of this map attribute.
    pub(crate) fn dot(mut self, name: &'static str) -> Path {
        self.0.push(name.into());
        self
    }

    /// The member of this map attribute whose name is `key` (an id): always a placeholder, so
    /// any string is safe here.
    pub(crate) fn entry(mut self, key: impl Into<String>) -> Path {
        self.0.push(std::borrow::Cow::Owned(key.into()));
        self
    }

    pub(crate) fn exists(&self) -> Cond {
        Cond::Exists(self.clone())
    }

    pub(crate) fn missing(&self) -> Cond {
        Cond::Missing(self.clone())
    }

    pub(crate) fn eq(&self, value: AttributeValue) -> Cond {
        Cond::Compare(self.clone(), "=", value)
    }

    pub(crate) fn ne(&self, value: AttributeValue) -> Cond {
        Cond::Compare(self.clone(), "<>", value)
    }

    pub(crate) fn lt(&self, value: AttributeValue) -> Cond {
        Cond::Compare(self.clone(), "<", value)
    }

    pub(crate) fn le(&self, value: AttributeValue) -> Cond {
        Cond::Compare(self.clone(), "<=", value)
    }

    pub(crate) fn gt(&self, value: AttributeValue) -> Cond {
        Cond::Compare(self.clone(), ">", value)
    }

    pub(crate) fn ge(&self, value: AttributeValue) -> Cond {
        Cond::Compare(self.clone(), ">=", value)
    }

    /// One of `values` (at least one).
    pub(crate) fn is_in(&self, values: Vec<AttributeValue>) -> Cond {
        Cond::In(self.clone(), values)
    }

    pub(crate) fn begins_with(&self, prefix: AttributeValue) -> Cond {
        Cond::BeginsWith(self.clone(), prefix)
    }

    /// This list (or set) attribute has `element` among its elements.
    pub(crate) fn contains(&self, element: AttributeValue) -> Cond {
        Cond::Contains(self.clone(), element)
    }
}

/// A condition on an item.
#[derive(Clone, Debug)]
pub(crate) enum Cond {
    Exists(Path),
    Missing(Path),
    Compare(Path, &'static str, AttributeValue),
    In(Path, Vec<AttributeValue>),
    BeginsWith(Path, AttributeValue),
    Contains(Path, AttributeValue),
    All(Vec<Cond>),
    Any(Vec<Cond>),
}

impl Cond {
    pub(crate) fn and(self, other: Cond) -> Cond {
        match self {
            Cond::All(mut all) => {
                all.push(other);
                Cond::All(all)
            }
            one => Cond::All(vec![one, other]),
        }
    }

    pub(crate) fn or(self, other: Cond) -> Cond {
        match self {
            Cond::Any(mut any) => {
                any.push(other);
                Cond::Any(any)
            }
            one => Cond::Any(vec![one, other]),
        }
    }

    fn render(&self, to: &mut Placeholders) -> String {
        let nested = |c: &Cond, to: &mut Placeholders| match c {
            Cond::All(_) | Cond::Any(_) => format!("({})", c.render(to)),
            _ => c.render(to),
        };
        match self {
            Cond::Exists(p) => format!("attribute_exists({})", to.path(p)),
            Cond::Missing(p) => format!("attribute_not_exists({})", to.path(p)),
            Cond::Compare(p, op, v) => format!("{} {op} {}", to.path(p), to.value(v.clone())),
            Cond::In(p, values) => {
                let path = to.path(p);
                let values: Vec<String> = values.iter().map(|v| to.value(v.clone())).collect();
                format!("{path} IN ({})", values.join(", "))
            }
            Cond::BeginsWith(p, v) => format!("begins_with({}, {})", to.path(p), to.value(v.clone())),
            Cond::Contains(p, v) => format!("contains({}, {})", to.path(p), to.value(v.clone())),
            Cond::All(all) => all.iter().map(|c| nested(c, to)).collect::<Vec<_>>().join(" AND "),
            Cond::Any(any) => any.iter().map(|c| nested(c, to)).collect::<Vec<_>>().join(" OR "),
        }
    }

    /// This condition on a Put, Delete or ConditionCheck.
    pub(crate) fn onto<B: Expressed>(&self, builder: B) -> B {
        let mut to = Placeholders::default();
        let condition = self.render(&mut to);
        builder.expressed(None, Some(condition), to)
    }
}

/// What `SET` assigns.
#[derive(Clone, Debug)]
enum Assign {
    Value(AttributeValue),
    /// `if_not_exists(path, start) + delta`: a counter that starts at `start`.
    Counted {
        start: AttributeValue,
        delta: AttributeValue,
    },
    /// `path - amount`.
    Less(AttributeValue),
}

/// An update: `SET`, `ADD` and `REMOVE` clauses, and the condition it is made on.
#[derive(Clone, Debug, Default)]
pub(crate) struct Changes {
    set: Vec<(Path, Assign)>,
    add: Vec<(Path, AttributeValue)>,
    remove: Vec<Path>,
    when: Option<Cond>,
}

impl Changes {
    pub(crate) fn new() -> Changes {
        Changes::default()
    }

    pub(crate) fn set(mut self, path: Path, value: AttributeValue) -> Changes {
        self.set.push((path, Assign::Value(value)));
        self
    }

    /// `path = if_not_exists(path, start) + delta`.
    pub(crate) fn count(mut self, path: Path, start: AttributeValue, delta: AttributeValue) -> Changes {
        self.set.push((path, Assign::Counted { start, delta }));
        self
    }

    /// `path = path - amount`.
    pub(crate) fn less(mut self, path: Path, amount: AttributeValue) -> Changes {
        self.set.push((path, Assign::Less(amount)));
        self
    }

    pub(crate) fn add(mut self, path: Path, value: AttributeValue) -> Changes {
        self.add.push((path, value));
        self
    }

    pub(crate) fn remove(mut self, path: Path) -> Changes {
        self.remove.push(path);
        self
    }

    /// Made only while `condition` holds (and any condition given before).
    pub(crate) fn when(mut self, condition: Cond) -> Changes {
        self.when = Some(match self.when.take() {
            Some(before) => before.and(condition),
            None => condition,
        });
        self
    }

    fn render(&self, to: &mut Placeholders) -> (String, Option<String>) {
        let mut clauses = Vec::new();
        if !self.set.is_empty() {
            let set: Vec<String> = self
                .set
                .iter()
                .map(|(p, assign)| {
                    let path = to.path(p);
                    match assign {
                        Assign::Value(v) => format!("{path} = {}", to.value(v.clone())),
                        Assign::Counted { start, delta } => format!(
                            "{path} = if_not_exists({path}, {}) + {}",
                            to.value(start.clone()),
                            to.value(delta.clone())
                        ),
                        Assign::Less(v) => format!("{path} = {path} - {}", to.value(v.clone())),
                    }
                })
                .collect();
            clauses.push(format!("SET {}", set.join(", ")));
        }
        if !self.add.is_empty() {
            let add: Vec<String> =
                self.add.iter().map(|(p, v)| format!("{} {}", to.path(p), to.value(v.clone()))).collect();
            clauses.push(format!("ADD {}", add.join(", ")));
        }
        if !self.remove.is_empty() {
            let remove: Vec<String> = self.remove.iter().map(|p| to.path(p)).collect();
            clauses.push(format!("REMOVE {}", remove.join(", ")));
        }
        let condition = self.when.as_ref().map(|c| c.render(to));
        (clauses.join(" "), condition)
    }

    /// These changes on an UpdateItem or a transaction's Update.
    pub(crate) fn onto<B: Expressed + Updating>(&self, builder: B) -> B {
        let mut to = Placeholders::default();
        let (update, condition) = self.render(&mut to);
        builder.expressed(Some(update), condition, to)
    }
}

/// A Query's key condition and optional filter, sharing one set of placeholders.
pub(crate) struct KeyQuery {
    pub(crate) key_condition: String,
    pub(crate) filter: Option<String>,
    pub(crate) names: Option<Names>,
    pub(crate) values: Option<Values>,
}

impl KeyQuery {
    pub(crate) fn new(key: &Cond, filter: Option<&Cond>) -> KeyQuery {
        let mut to = Placeholders::default();
        let key_condition = key.render(&mut to);
        let filter = filter.map(|f| f.render(&mut to));
        let (names, values) = to.into_maps();
        KeyQuery { key_condition, filter, names, values }
    }
}

type Names = HashMap<String, String>;
type Values = HashMap<String, AttributeValue>;

/// The names and values an expression refers to.
#[derive(Default)]
pub(crate) struct Placeholders {
    names: Names,
    values: Values,
}

impl Placeholders {
    fn path(&mut self, path: &Path) -> String {
        let parts: Vec<String> = path.0.iter().map(|name| self.name(name)).collect();
        parts.join(".")
    }

    fn name(&mut self, name: &str) -> String {
        let readable = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if let Some((placeholder, _)) = self.names.iter().find(|(_, n)| n.as_str() == name) {
            return placeholder.clone();
        }
        // `#name` when the name may stand in a placeholder and no other name holds it; otherwise
        // the first free `#nN`.
        let mut placeholder = if readable { format!("#{name}") } else { String::new() };
        let mut n = self.names.len();
        while placeholder.is_empty() || self.names.contains_key(&placeholder) {
            placeholder = format!("#n{n}");
            n += 1;
        }
        self.names.insert(placeholder.clone(), name.to_owned());
        placeholder
    }

    fn value(&mut self, value: AttributeValue) -> String {
        let placeholder = format!(":v{}", self.values.len());
        self.values.insert(placeholder.clone(), value);
        placeholder
    }

    fn into_maps(self) -> (Option<Names>, Option<Values>) {
        let names = (!self.names.is_empty()).then_some(self.names);
        let values = (!self.values.is_empty()).then_some(self.values);
        (names, values)
    }
}

/// A request builder that takes a condition with its names and values.
pub(crate) trait Expressed: Sized {
    fn expressed(self, update: Option<String>, condition: Option<String>, to: Placeholders) -> Self;
}

/// A request builder that takes an update expression too.
pub(crate) trait Updating {}

macro_rules! expressed {
    ($($builder:ty),* ; updating $($updating:ty),*) => {
        $(impl Expressed for $builder {
            fn expressed(self, update: Option<String>, condition: Option<String>, to: Placeholders) -> Self {
                debug_assert!(update.is_none(), "an update expression on a request that takes none");
                let (names, values) = to.into_maps();
                self.set_condition_expression(condition)
                    .set_expression_attribute_names(names)
                    .set_expression_attribute_values(values)
            }
        })*
        $(impl Updating for $updating {}
        impl Expressed for $updating {
            fn expressed(self, update: Option<String>, condition: Option<String>, to: Placeholders) -> Self {
                let (names, values) = to.into_maps();
                self.set_update_expression(update)
                    .set_condition_expression(condition)
                    .set_expression_attribute_names(names)
                    .set_expression_attribute_values(values)
            }
        })*
    };
}

expressed!(
    aws_sdk_dynamodb::types::builders::PutBuilder,
    aws_sdk_dynamodb::types::builders::DeleteBuilder,
    aws_sdk_dynamodb::types::builders::ConditionCheckBuilder,
    aws_sdk_dynamodb::operation::put_item::builders::PutItemFluentBuilder,
    aws_sdk_dynamodb::operation::delete_item::builders::DeleteItemFluentBuilder;
    updating
    aws_sdk_dynamodb::types::builders::UpdateBuilder,
    aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder
);

#[cfg(test)]
mod tests {
    use super::*;

    fn n(v: i64) -> AttributeValue {
        AttributeValue::N(v.to_string())
    }

    fn rendered(c: &Changes) -> (String, Option<String>, Placeholders) {
        let mut to = Placeholders::default();
        let (u, c) = c.render(&mut to);
        (u, c, to)
    }

    #[test]
    fn conditions_name_every_attribute_and_number_every_value() {
        let cond = attr("state")
            .ne(n(1))
            .and(attr("open_ports").eq(n(2)).or(attr("open_ports").missing()))
            .and(attr("account").dot("region").is_in(vec![n(3), n(4)]));
        let mut to = Placeholders::default();
        assert_eq!(
            cond.render(&mut to),
            "#state <> :v0 AND (#open_ports = :v1 OR attribute_not_exists(#open_ports)) \
             AND #account.#region IN (:v2, :v3)"
        );
        assert_eq!(to.names.len(), 4);
        assert_eq!(to.names["#region"], "region");
        assert_eq!(to.values[":v3"], n(4));
    }

    #[test]
    fn updates_render_each_clause_once_with_the_condition_sharing_placeholders() {
        let changes = Changes::new()
            .set(attr("name"), n(1))
            .count(attr("live_clusters"), n(0), n(1))
            .less(attr("held"), n(5))
            .add(attr("granted"), n(2))
            .remove(attr("gsi1pk"))
            .remove(attr("gsi1sk"))
            .when(exists())
            .when(attr("live_clusters").lt(n(100)));
        let (update, condition, to) = rendered(&changes);
        assert_eq!(
            update,
            "SET #name = :v0, #live_clusters = if_not_exists(#live_clusters, :v1) + :v2, \
             #held = #held - :v3 ADD #granted :v4 REMOVE #gsi1pk, #gsi1sk"
        );
        assert_eq!(condition.as_deref(), Some("attribute_exists(#pk) AND #live_clusters < :v5"));
        assert_eq!(to.values.len(), 6);
        assert_eq!(to.names.len(), 7);
    }

    #[test]
    fn a_name_that_is_not_an_identifier_gets_a_numbered_placeholder() {
        let mut to = Placeholders::default();
        assert_eq!(to.name("a-b"), "#n0");
        assert_eq!(to.name("a-b"), "#n0");
        assert_eq!(to.name("ok"), "#ok");
        // An attribute whose own name is a numbered placeholder's gets another one.
        assert_eq!(to.name("n0"), "#n2");
        assert_eq!(to.names.len(), 3);
        assert_eq!(to.names["#n0"], "a-b");
    }

    #[test]
    fn a_key_query_and_its_filter_share_placeholders() {
        let q = KeyQuery::new(
            &attr("pk").eq(n(1)).and(attr("sk").begins_with(n(2))),
            Some(&attr("status").eq(n(3))),
        );
        assert_eq!(q.key_condition, "#pk = :v0 AND begins_with(#sk, :v1)");
        assert_eq!(q.filter.as_deref(), Some("#status = :v2"));
        assert_eq!(q.values.map(|v| v.len()), Some(3));
        let empty = KeyQuery::new(&exists(), None);
        assert!(empty.values.is_none());
    }
}
