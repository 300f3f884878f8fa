use leptos::prelude::*;

/// An error shown as text, with the ways forward passed as children (retry, sign in again, go home).
#[component]
pub fn ErrorPanel(#[prop(into)] title: String, #[prop(into)] message: String, children: Children) -> impl IntoView {
    view! {
        <section class="panel error" role="alert" data-testid="error">
            <h2>{title}</h2>
            <p data-testid="error-message">{message}</p>
            <div class="actions">{children()}</div>
        </section>
    }
}
