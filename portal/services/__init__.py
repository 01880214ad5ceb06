"""State changes shared by views, jobs, the API and the CLI. Services change the session; the
caller (view, job, command) commits once per unit of work."""
