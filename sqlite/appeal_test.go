package sqlite_test

import (
	"testing"

	"firebreak"
	"firebreak/sqlite"
	"firebreak/storetest"
)

func TestAppealStore(t *testing.T) {
	storetest.TestAppealService(t, func(t *testing.T) (firebreak.AppealService, firebreak.IncidentService, firebreak.ContainmentService) {
		db := openDB(t)
		return sqlite.NewAppealStore(db), sqlite.NewIncidentStore(db), sqlite.NewContainmentStore(db)
	})
}
