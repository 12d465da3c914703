import { render } from 'preact';
import { LocationProvider, Route, Router } from 'preact-iso';
import { ChartsPage } from './pages/charts-page.js';
import { FilesPage } from './pages/files-page.js';
import { GanttPage } from './pages/gantt-page.js';
import { JobInstancePage } from './pages/job-instance-page.js';
import { StatisticsPage } from './pages/statistics-page.js';
import { WorkflowList } from './pages/workflow-list.js';
import { WorkflowPage } from './pages/workflow-page.js';

function NotFound() {
  return (
    <main>
      <p class="error">
        No such page. <a href="/">All workflows</a>
      </p>
    </main>
  );
}

function App() {
  return (
    <LocationProvider>
      <header class="top">
        <a href="/">Pegasus-TS</a>
        <a href="/">Workflows</a>
      </header>
      <Router>
        <Route path="/" component={WorkflowList} />
        <Route path="/workflows/:wf" component={WorkflowPage} />
        <Route path="/workflows/:wf/job-instances/:ji" component={JobInstancePage} />
        <Route path="/workflows/:wf/charts" component={ChartsPage} />
        <Route path="/workflows/:wf/gantt" component={GanttPage} />
        <Route path="/workflows/:wf/statistics" component={StatisticsPage} />
        <Route path="/workflows/:wf/files/:file*" component={FilesPage} />
        <Route default component={NotFound} />
      </Router>
    </LocationProvider>
  );
}

render(<App />, document.getElementById('app')!);
