export function NotFoundScreen() {
  return (
    <main id="main" tabIndex={-1}>
      <h1>Page not found</h1>
      <p>
        <a href="/ui/" data-primary>
          Back to the projects
        </a>
      </p>
    </main>
  );
}
